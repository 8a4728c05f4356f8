import Foundation

/// Reads a slot file: a pip requirements file in which every requirement is an exact pin.
///
/// The accepted form is what `pip freeze` and `uv pip compile --generate-hashes` (or `--universal`) write, so users
/// keep their tools: PEP 508 markers, and one package pinned several times under markers that exclude each other.
/// Anything that would let a host resolve versions by itself (ranges, URLs, includes, editable installs) is refused.
struct RequirementsParser {
    let path: String
    let log: DiagnosticLog
    /// The policy that requires a `--hash` on every pin (`requireHashes: true`); nil when none does.
    var hashesRequiredBy: String? = nil
    /// Whether the environment's artifacts are shipped by the controller (`source: {ship: …}`), which finds each file
    /// by its hash, so every pin needs one.
    var hashesRequiredByShipping = false

    /// One logical line (after joining `\` continuations), with the file position of each of its characters.
    private struct LogicalLine {
        var text: [Character] = []
        var positions: [(line: Int, column: Int)] = []
        var firstLine = 1

        func location(_ offset: Int, path: String) -> SourceLocation {
            guard !positions.isEmpty else { return SourceLocation(path: path, line: firstLine, column: 1) }
            let position = positions[min(max(offset, 0), positions.count - 1)]
            return SourceLocation(path: path, line: position.line, column: position.column)
        }
    }

    func parse(_ text: String) -> [Pin] {
        if let tooLarge = ConfigLimits.sizeError(of: text) {
            log.error(tooLarge, at: SourceLocation(path: path, line: 1, column: 1), hint: "a slot file holds one pin per line")
            return []
        }
        var pins: [Pin] = []
        var seen: [String: [(pin: Pin, marker: Marker?, line: Int)]] = [:]
        var budget = Marker.checkBudget
        var withoutHashes: [(pin: Pin, location: SourceLocation)] = []
        var firstHashed: SourceLocation?
        for line in logicalLines(text) {
            guard let (pin, location) = parse(line) else { continue }
            // Parsed once here, not once for every pin of the package it is compared with.
            let marker = pin.markerExpression
            guard checkAlternatives(pin, marker, at: location, earlier: seen[pin.normalizedName] ?? [], budget: &budget) else { continue }
            seen[pin.normalizedName, default: []].append((pin, marker, location.line))
            if pin.hashes.isEmpty {
                withoutHashes.append((pin, location))
            } else if firstHashed == nil {
                firstHashed = location
            }
            pins.append(pin)
        }
        if let firstHashed {
            for (pin, location) in withoutHashes {
                log.error("`\(Quote.excerpt(pin.name))` has no `--hash` while other pins have one", at: location,
                          hint: "pip checks hashes for all pins or none (line \(firstHashed.line) has one); regenerate with `uv pip compile --generate-hashes`")
            }
        } else if hashesRequiredByShipping {
            for (pin, location) in withoutHashes {
                log.error("`\(Quote.excerpt(pin.name))` has no `--hash`, and `source: {ship: …}` ships only files named by their hash",
                          at: location, hint: "regenerate the file with `uv pip compile --generate-hashes` (or write a `pylock.toml`), "
                          + "so the controller can fetch and check each file the hosts install")
            }
        } else if let policy = hashesRequiredBy {
            for (pin, location) in withoutHashes {
                log.error("`\(Quote.excerpt(pin.name))` has no `--hash`, and policy `\(policy)` requires one on every pin (`requireHashes: true`)",
                          at: location, hint: "regenerate the file with `uv pip compile --generate-hashes`, so hosts install only the files it names")
            }
        }
        if pins.isEmpty && !log.hasErrors {
            log.error("the slot file pins no package", at: SourceLocation(path: path),
                      hint: "list every package of the slot as `name==version`, as `pip freeze` prints them")
        }
        return pins
    }

    /// A package may be pinned more than once when no environment gets two of its pins, as `uv pip compile --universal`
    /// writes `django==5.2.20 ; python_full_version < '3.12'` and `django==6.1.3 ; python_full_version >= '3.12'`.
    /// Pins that could apply together are refused: pip would fail on the host (a double requirement), and no one
    /// could say which version a slot runs.
    private func checkAlternatives(_ pin: Pin, _ marker: Marker?, at location: SourceLocation, earlier: [(pin: Pin, marker: Marker?, line: Int)],
                                   budget: inout Int) -> Bool {
        guard earlier.count < Marker.maximumAlternatives else {
            log.error("`\(Quote.excerpt(pin.name))` is pinned more than \(Marker.maximumAlternatives) times", at: location,
                      hint: "a universal lock pins a package a few times at most; keep the pins that these hosts can use")
            return false
        }
        for previous in earlier {
            switch Marker.overlap(previous.marker, marker, budget: &budget) {
            case .exclusive:
                continue
            case .overlap(let witness):
                let both = previous.pin.marker == nil && pin.marker == nil
                log.error("`\(Quote.excerpt(pin.name))` is pinned twice" + (both ? "" : " for the same environments"), at: location,
                          hint: both
                              ? "it is already pinned on line \(previous.line); keep one pin per package"
                              : "line \(previous.line) pins it too and both markers hold for \(witness); give each pin a marker that excludes the others "
                                + "(`uv pip compile --universal` writes them so)")
                return false
            case .undecided:
                log.error("`\(Quote.excerpt(pin.name))` is pinned twice and its markers are too complex to prove that they exclude each other", at: location,
                          hint: "line \(previous.line) pins it too; simplify the markers or keep one pin")
                return false
            }
        }
        return true
    }

    private func logicalLines(_ text: String) -> [LogicalLine] {
        var lines: [LogicalLine] = []
        var current = LogicalLine()
        var continuing = false
        // "\r\n" is one Character in Swift: normalise line ends before splitting.
        let physical = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        for (index, raw) in physical.enumerated() {
            var chars = Array(raw)
            if !continuing {
                current = LogicalLine()
                current.firstLine = index + 1
            }
            let continues = chars.last == "\\"
            if continues { chars.removeLast() }
            for (column, character) in chars.enumerated() {
                current.text.append(character)
                current.positions.append((index + 1, column + 1))
            }
            if continues && index + 1 < physical.count {
                // The joined text gets a space where the line break was, as pip does.
                current.text.append(" ")
                current.positions.append((index + 1, chars.count + 1))
                continuing = true
            } else {
                lines.append(current)
                continuing = false
            }
        }
        return lines
    }

    /// Drops a comment: `#` at the start or after white space, to the end of the line.
    private func stripComment(_ text: [Character]) -> [Character] {
        for (index, character) in text.enumerated() where character == "#" {
            if index == 0 || text[index - 1].isWhitespace {
                return Array(text[..<index])
            }
        }
        return text
    }

    private func parse(_ line: LogicalLine) -> (Pin, SourceLocation)? {
        let text = stripComment(line.text)
        // Tokens split on white space, with their offsets.
        var tokens: [(text: String, offset: Int)] = []
        var index = 0
        while index < text.count {
            if text[index].isWhitespace {
                index += 1
                continue
            }
            let start = index
            while index < text.count, !text[index].isWhitespace { index += 1 }
            tokens.append((String(text[start..<index]), start))
        }
        guard let first = tokens.first else { return nil }
        let firstLocation = line.location(first.offset, path: path)

        if first.text.hasPrefix("-") {
            reportOption(first.text, at: firstLocation)
            return nil
        }
        // The requirement runs until the first option token.
        let optionStart = tokens.firstIndex { $0.text.hasPrefix("--") } ?? tokens.count
        let requirementEnd = optionStart < tokens.count ? tokens[optionStart].offset : text.count
        let requirement = String(text[first.offset..<requirementEnd]).trimmingCharacters(in: .whitespaces)

        var hashes: [String] = []
        var tokenIndex = optionStart
        var failed = false
        while tokenIndex < tokens.count {
            let token = tokens[tokenIndex]
            let location = line.location(token.offset, path: path)
            var value: String?
            if token.text.hasPrefix("--hash=") {
                value = String(token.text.dropFirst("--hash=".count))
            } else if token.text == "--hash", tokenIndex + 1 < tokens.count {
                tokenIndex += 1
                value = tokens[tokenIndex].text
            } else {
                log.error("`\(Quote.excerpt(token.text))` is not allowed after a pin", at: location,
                          hint: "only `--hash=sha256:<hex>` may follow a pin; put index options in `source:` of environment.yaml")
                failed = true
                tokenIndex += 1
                continue
            }
            if let value, Self.isValidHash(value) {
                hashes.append(value)
            } else {
                log.error("`\(Quote.excerpt(token.text))` is not a valid hash", at: location,
                          hint: "write `--hash=sha256:` followed by 64 lowercase hex digits")
                failed = true
            }
            tokenIndex += 1
        }

        guard let pin = parseRequirement(requirement, offset: first.offset, line: line) else { return nil }
        if failed { return nil }
        var result = pin
        result.hashes = hashes
        return (result, firstLocation)
    }

    private func parseRequirement(_ requirement: String, offset: Int, line: LogicalLine) -> Pin? {
        let location = line.location(offset, path: path)
        var spec = requirement
        var marker: String?
        if let semicolon = requirement.firstIndex(of: ";") {
            spec = String(requirement[..<semicolon]).trimmingCharacters(in: .whitespaces)
            let markerText = String(requirement[requirement.index(after: semicolon)...]).trimmingCharacters(in: .whitespaces)
            let markerOffset = offset + requirement.distance(from: requirement.startIndex, to: semicolon) + 1
            guard !markerText.isEmpty else {
                log.error("the environment marker after `;` is empty", at: line.location(markerOffset - 1, path: path),
                          hint: "write a marker such as `python_version >= '3.10'`, or drop the `;`")
                return nil
            }
            if case .failure(let failure) = MarkerParser.parse(markerText) {
                // The marker starts after the `;` and the spaces that follow it.
                let leading = requirement[requirement.index(after: semicolon)...].prefix { $0.isWhitespace }.count
                log.error("the environment marker is not valid: \(failure.message)",
                          at: line.location(markerOffset + leading + failure.offset, path: path),
                          hint: "PEP 508 markers compare variables such as `python_full_version` or `sys_platform` with quoted strings, "
                              + "joined by `and`, `or` and parentheses: `python_full_version >= '3.12' and sys_platform == 'linux'`")
                return nil
            }
            marker = markerText
        }
        if spec.contains("@") || spec.contains("://") {
            log.error("`\(Quote.excerpt(spec))` installs from a URL", at: location,
                      hint: "pin a version from the index instead: `name==version`")
            return nil
        }
        if spec.contains("[") {
            log.error("`\(Quote.excerpt(spec))` asks for extras", at: location,
                      hint: "slots are installed with `--no-deps`: pin every package the extra brings in as its own `name==version` line")
            return nil
        }
        let operators = ["===", "==", "~=", "!=", "<=", ">=", "<", ">"]
        guard let range = operators.lazy.compactMap({ spec.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) else {
            let name = spec.trimmingCharacters(in: .whitespaces)
            log.error("`\(Quote.excerpt(name))` is not pinned", at: location,
                      hint: Self.isValidName(name) ? "write an exact version: `\(Quote.excerpt(name))==VERSION`" : "write `name==version`")
            return nil
        }
        let name = String(spec[..<range.lowerBound]).trimmingCharacters(in: .whitespaces)
        let afterName = spec[range.lowerBound...]
        let op = operators.first { afterName.hasPrefix($0) }!
        let version = String(afterName.dropFirst(op.count)).trimmingCharacters(in: .whitespaces)
        guard Self.isValidName(name) else {
            log.error("`\(Quote.excerpt(name))` is not a valid package name", at: location,
                      hint: "package names are letters, digits, `.`, `_` and `-`, starting and ending with a letter or digit (PEP 508)")
            return nil
        }
        guard op == "==", !version.contains(","), !version.contains("*") else {
            log.error("`\(Quote.excerpt(spec))` is a range, not an exact pin", at: location,
                      hint: "every slot pins exact versions: write `\(Quote.excerpt(name))==VERSION`")
            return nil
        }
        guard Self.isValidVersion(version) else {
            let versionOffset = offset + spec.distance(from: spec.startIndex, to: range.upperBound)
            log.error("`\(Quote.excerpt(version))` is not a valid version of `\(Quote.excerpt(name))`", at: line.location(versionOffset, path: path),
                      hint: "versions follow PEP 440, such as `1.2.0`, `2.0.0rc1` or `1.0.post1`")
            return nil
        }
        return Pin(name: name, version: version, marker: marker)
    }

    private func reportOption(_ option: String, at location: SourceLocation) {
        let name = option.split(separator: "=").first.map(String.init) ?? option
        switch name {
        case "-e", "--editable":
            log.error("editable installs (`\(Quote.excerpt(name))`) are not allowed in a slot", at: location,
                      hint: "build the package and pin its version: `name==version`")
        case "-r", "--requirement", "-c", "--constraint":
            log.error("`\(Quote.excerpt(name))` includes another file, which a slot may not do", at: location,
                      hint: "write every pin in this file; `uv pip compile` or `pip freeze` produce it")
        case "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--no-index":
            log.error("`\(Quote.excerpt(name))` is not allowed in a slot file", at: location,
                      hint: "set where packages come from in `source:` of environment.yaml")
        default:
            log.error("the option `\(Quote.excerpt(name))` is not allowed in a slot file", at: location,
                      hint: "a slot file holds only `name==version` lines, optionally with `--hash=`")
        }
    }

    // MARK: Shapes

    /// PEP 508 names: letters, digits, `.`, `_`, `-`, starting and ending with a letter or digit.
    static func isValidName(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first, let last = scalars.last, scalars.count <= 200 else { return false }
        func alnum(_ s: Unicode.Scalar) -> Bool { ValueRules.isLetter(s) || ValueRules.isDigit(s) }
        return alnum(first) && alnum(last) && scalars.allSatisfy { alnum($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    /// PEP 440 versions (the specification's own pattern, case-insensitive).
    static func isValidVersion(_ version: String) -> Bool {
        guard version.utf8.count <= 100 else { return false }
        let pattern = #"^v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?(?:[-_.]?dev[-_.]?[0-9]*)?(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?$"#
        return version.range(of: pattern, options: [.regularExpression, .caseInsensitive]) != nil
    }

    /// `algorithm:hexdigest` with an algorithm pip accepts.
    static func isValidHash(_ value: String) -> Bool {
        let parts = value.split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else { return false }
        let lengths = ["sha256": 64, "sha384": 96, "sha512": 128]
        guard let length = lengths[String(parts[0])] else { return false }
        return parts[1].count == length && parts[1].unicodeScalars.allSatisfy { ValueRules.isDigit($0) || ("a"..."f").contains($0) }
    }
}
