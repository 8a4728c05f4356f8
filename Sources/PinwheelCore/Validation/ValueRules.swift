import Foundation

/// The shapes that values reaching a host may take.
///
/// Everything that ends up in a remote shell script is checked here first (and quoted there too), so that a
/// config value can never smuggle in shell syntax. Only the fields that are commands by design (`command`,
/// `ctl`, `test`, `reload`) may hold arbitrary words, and even they may not hold control characters.
public enum ValueRules {
    /// Names of environments, apps, programs and policies: they become folder, file and supervisord names.
    public static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.unicodeScalars.count <= 63, isLetter(first) else { return false }
        return text.unicodeScalars.allSatisfy { isLetter($0) || isDigit($0) || $0 == "-" || $0 == "_" }
    }

    /// Host names: letters, digits, `.`, `-`, `_`, starting with a letter or digit.
    public static func isHostName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.unicodeScalars.count <= 63, isLetter(first) || isDigit(first) else { return false }
        return text.unicodeScalars.allSatisfy { isLetter($0) || isDigit($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    /// POSIX user names.
    public static func isUserName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.unicodeScalars.count <= 32, isLower(first) || first == "_" else { return false }
        return text.unicodeScalars.allSatisfy { isLower($0) || isDigit($0) || $0 == "-" || $0 == "_" }
    }

    /// `local`, an IPv4 or IPv6 address, or a DNS name.
    public static func isAddress(_ text: String) -> Bool {
        text == "local" || isIPv4(text) || isIPv6(text) || isDNSName(text)
    }

    public static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy { $0.isASCII && $0.isNumber } && Int(part)! <= 255
                && !(part.count > 1 && part.first == "0")
        }
    }

    public static func isIPv6(_ text: String) -> Bool {
        guard text.contains(":"), text.count <= 45 else { return false }
        let groups = text.components(separatedBy: ":")
        guard groups.count >= 3, groups.count <= 8 || (groups.count == 9 && text.contains("::")) else { return false }
        guard text.components(separatedBy: "::").count <= 2 else { return false }
        return groups.allSatisfy { group in group.count <= 4 && group.unicodeScalars.allSatisfy(isHexDigit) }
    }

    public static func isDNSName(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard !labels.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return false }
        return labels.allSatisfy { label in
            guard let first = label.unicodeScalars.first, let last = label.unicodeScalars.last, label.count <= 63 else { return false }
            return (isLetter(first) || isDigit(first)) && (isLetter(last) || isDigit(last))
                && label.unicodeScalars.allSatisfy { isLetter($0) || isDigit($0) || $0 == "-" }
        }
    }

    /// An exact uv release version (`0.13.9`): two to four dot-separated numbers, as uv's releases are numbered, so
    /// the shipped installer is one auditable file.
    public static func isExactUVVersion(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return (2...4).contains(parts.count) && text.utf8.count <= 32
            && parts.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { (48...57).contains($0) } }
    }

    /// An absolute path on a host, made of characters that need no quoting and with no `..` component.
    public static func isAbsolutePath(_ text: String) -> Bool {
        text.hasPrefix("/") && isPathText(text)
    }

    /// A path on the controller's machine: absolute, relative, or starting with `~/`.
    public static func isLocalPath(_ text: String) -> Bool {
        let rest = text.hasPrefix("~/") ? String(text.dropFirst(2)) : text
        return !rest.isEmpty && isPathText(rest)
    }

    /// A file name relative to an environment's folder, without `..`.
    public static func isRelativeFile(_ text: String) -> Bool {
        !text.hasPrefix("/") && !text.hasSuffix("/") && isPathText(text)
    }

    private static func isPathText(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 1024 else { return false }
        guard text.unicodeScalars.allSatisfy({ isLetter($0) || isDigit($0) || "._/+@,=-".unicodeScalars.contains($0) }) else { return false }
        return !text.split(separator: "/").contains("..")
    }

    /// An http(s) URL made of characters that need no quoting, without credentials in it.
    public static func urlProblem(_ text: String) -> String? {
        guard text.hasPrefix("http://") || text.hasPrefix("https://") else {
            return "must be an http:// or https:// URL"
        }
        let rest = text.drop { $0 != ":" }.dropFirst(3)
        let authority = rest.prefix { $0 != "/" }
        if authority.contains("@") {
            return "must not carry credentials (they would be written into git)"
        }
        guard !authority.isEmpty else { return "has no host" }
        guard text.unicodeScalars.allSatisfy({ isLetter($0) || isDigit($0) || "._~:/%+=,-[]".unicodeScalars.contains($0) }) else {
            return "may only contain letters, digits and `._~:/%+=,-`"
        }
        return nil
    }

    /// The path part of an HTTP health check.
    public static func isURLPath(_ text: String) -> Bool {
        text.hasPrefix("/") && text.utf8.count <= 1024
            && text.unicodeScalars.allSatisfy { isLetter($0) || isDigit($0) || "._~/%+=,-".unicodeScalars.contains($0) }
    }

    /// Commands may be any words, but never control characters (a newline would start a second command).
    public static func commandProblem(_ text: String) -> String? {
        if text.trimmingCharacters(in: .whitespaces).isEmpty { return "is empty" }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "must be one line without control characters"
        }
        if text.utf8.count > 4096 { return "is longer than 4096 bytes" }
        return nil
    }

    /// `127.x.y.z:port`: where a probe that only this host may reach listens.
    public static func isLoopbackEndpoint(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, isIPv4(String(parts[0])), parts[0].hasPrefix("127."),
              parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(parts[1]), (1...65535).contains(port),
              !(parts[1].count > 1 && parts[1].first == "0") else { return false }
        return true
    }

    /// Environment variable names: a letter or `_`, then letters, digits or `_`.
    public static func isVariableName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.utf8.count <= 128, isLetter(first) || first == "_" else { return false }
        return text.unicodeScalars.allSatisfy { isLetter($0) || isDigit($0) || $0 == "_" }
    }

    /// Environment variable values: one line of text up to 4096 bytes that supervisord's config can hold. The agent
    /// quotes a value with `"`, or `'` when it holds a `"`, so it cannot hold both; and supervisord takes a space
    /// followed by `;` or `#` for the start of a comment.
    public static func variableValueProblem(_ text: String) -> String? {
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "must be one line without control characters"
        }
        if text.utf8.count > 4096 { return "is longer than 4096 bytes" }
        if text.contains("\"") && text.contains("'") {
            return "holds both `\"` and `'`, which supervisord's config cannot quote together"
        }
        let scalars = Array(text.unicodeScalars)
        for (index, scalar) in scalars.enumerated().dropFirst() where scalar == ";" || scalar == "#" {
            if scalars[index - 1] == " " || scalars[index - 1] == "\t" {
                return "has a space before `\(scalar)`, which supervisord's config reads as the start of a comment"
            }
        }
        return nil
    }

    /// The first `{name}` in `text` whose name is a word but not one of `known`; nil when there is none. Braces
    /// around anything else (JSON, say) are plain text.
    public static func unknownPlaceholder(in text: String, known: [String]) -> String? {
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            let after = rest[rest.index(after: open)...]
            if let close = after.firstIndex(of: "}") {
                let name = String(after[..<close])
                if !name.isEmpty, name.unicodeScalars.allSatisfy(isLetter), !known.contains(name) { return name }
            }
            rest = after
        }
        return nil
    }

    static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }

    static func isLower(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar)
    }

    static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(scalar)
    }

    static func isHexDigit(_ scalar: Unicode.Scalar) -> Bool {
        isDigit(scalar) || ("a"..."f").contains(scalar) || ("A"..."F").contains(scalar)
    }
}
