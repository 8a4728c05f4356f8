/// The shape of the commands a config may give a host (`supervisor.ctl`, `nginx.test`, `nginx.reload`).
///
/// Whoever can commit chooses these, and they run as the SSH user (often root), so they are argument vectors, never
/// shell command lines: words of plain characters separated by spaces, an optional `sudo` (with `-n`), then one of
/// the programs the command exists for, and no path inside the host's deploy root (where packages, which a commit
/// also chooses, put files: an nginx config there could load a module). `supervisor.ctl` may only add `-c FILE` and
/// `-s URL`. The host agent checks the same again (`command_words` in the agent's `agent_commands.py`) and runs
/// them only in requests that change something; observing never runs them.
public enum HostCommandRules {
    /// The programs each command may run.
    public static let programs: [String: [String]] = [
        "supervisor.ctl": ["supervisorctl"],
        "nginx.test": ["nginx", "systemctl", "service"],
        "nginx.reload": ["nginx", "systemctl", "service"],
    ]

    /// Where a program named by its absolute path must be (the host agent finds bare names there too).
    public static let systemFolders = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

    /// Why `text` cannot be the command `key` (`supervisor.ctl`, `nginx.test`, `nginx.reload`); nil when it can.
    public static func problem(_ text: String, key: String) -> String? {
        let words = text.split(separator: " ").map(String.init)
        guard !words.isEmpty else { return "is empty" }
        if text.utf8.count > 4096 { return "is longer than 4096 bytes" }
        for word in words where !word.unicodeScalars.allSatisfy(isPlain) {
            return "is run as an argument vector, never by a shell, so each word may only hold letters, digits and "
                + "`._/+@,=:-`; `\(Quote.excerpt(word))` holds something else"
        }
        var index = 0
        if program(words[0]) == "sudo" {
            index = 1
            while index < words.count, ["-n", "--non-interactive"].contains(words[index]) { index += 1 }
        }
        let allowed = programs[key] ?? []
        guard index < words.count, let name = program(words[index]), allowed.contains(name) else {
            let found = index < words.count ? words[index] : text
            return "must run \(allowed.joined(separator: " or ")) (optionally after `sudo -n`), found `\(Quote.excerpt(found))`"
        }
        if key == "supervisor.ctl" {
            var rest = words[(index + 1)...]
            while let first = rest.first {
                if first == "-c" || first == "-s", rest.count > 1 {
                    rest = rest.dropFirst(2)
                } else if first.hasPrefix("--configuration=") || first.hasPrefix("--serverurl=") {
                    rest = rest.dropFirst()
                } else {
                    return "may only give supervisorctl `-c FILE` and `-s URL`, found `\(Quote.excerpt(first))`"
                }
            }
        }
        return nil
    }

    /// The first path in `text` (a word, or what follows `=` in one) that lies inside `root` or climbs with `..`;
    /// nil when there is none.
    public static func pathInside(_ text: String, root: String) -> String? {
        let base = root.hasSuffix("/") ? String(root.dropLast()) : root
        for word in text.split(separator: " ") {
            let path = String(word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).last ?? word)
            guard path.hasPrefix("/") else { continue }
            if path.split(separator: "/").contains("..") || base.isEmpty || path == base || path.hasPrefix(base + "/") {
                return path
            }
        }
        return nil
    }

    /// The program a word names: a bare name, or an absolute path in ``systemFolders`` (its last part); else nil.
    static func program(_ word: String) -> String? {
        guard let slash = word.lastIndex(of: "/") else { return word }
        let folder = String(word[..<slash])
        return systemFolders.contains(folder) ? String(word[word.index(after: slash)...]) : nil
    }

    private static func isPlain(_ scalar: Unicode.Scalar) -> Bool {
        ValueRules.isLetter(scalar) || ValueRules.isDigit(scalar) || "._/+@,=:-".unicodeScalars.contains(scalar)
    }
}
