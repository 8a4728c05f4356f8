import Yams

/// Reads typed values out of a YAML document, reporting every mistake with its location.
///
/// Each accessor returns nil after logging an error, so callers can keep reading and report all problems at once.
struct ConfigReader {
    let document: YAMLDocument
    let log: DiagnosticLog

    var path: String { document.path }

    func location(_ node: Node) -> SourceLocation {
        document.location(of: node)
    }

    func error(_ message: String, at node: Node, hint: String? = nil) {
        log.error(message, at: location(node), hint: hint)
    }

    // MARK: Mappings

    /// The entries of a mapping, checked against the keys it may and must have.
    func mapping(_ node: Node, _ what: String, required: [String] = [], optional: [String] = []) -> Fields? {
        guard case let .mapping(mapping) = node else {
            error("\(what) must be a mapping (`key: value` lines), found \(kind(of: node))", at: node)
            return nil
        }
        let known = required + optional
        var entries: [(key: String, keyNode: Node, value: Node)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                error("\(what) has a key that is not a plain name", at: keyNode)
                continue
            }
            guard known.contains(key) else {
                error("unknown key `\(Quote.excerpt(key))` in \(what)", at: keyNode, hint: Self.suggestion(for: key, among: known))
                continue
            }
            entries.append((key, keyNode, value))
        }
        for key in required where !entries.contains(where: { $0.key == key }) {
            error("\(what) is missing the required key `\(key)`", at: node)
        }
        return Fields(node: node, entries: entries)
    }

    /// A mapping whose keys are names chosen by the user (programs, slots, ...), in file order.
    func namedMapping(_ node: Node, _ what: String) -> [(name: String, keyNode: Node, value: Node)]? {
        guard case let .mapping(mapping) = node else {
            error("\(what) must be a mapping (`name: value` lines), found \(kind(of: node))", at: node)
            return nil
        }
        var entries: [(name: String, keyNode: Node, value: Node)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string, !key.isEmpty else {
                error("\(what) has a key that is not a plain name", at: keyNode)
                continue
            }
            entries.append((key, keyNode, value))
        }
        return entries
    }

    func sequence(_ node: Node, _ what: String) -> [Node]? {
        guard case let .sequence(sequence) = node else {
            error("\(what) must be a list (`- item` lines), found \(kind(of: node))", at: node)
            return nil
        }
        return Array(sequence)
    }

    // MARK: Scalars

    /// A non-empty string. Numbers and booleans written in YAML are read as the text they were written as.
    func string(_ node: Node, _ what: String) -> String? {
        guard case let .scalar(scalar) = node else {
            error("\(what) must be a single value, found \(kind(of: node))", at: node)
            return nil
        }
        if isNull(scalar) {
            error("\(what) has no value", at: node)
            return nil
        }
        return scalar.string
    }

    func integer(_ node: Node, _ what: String, in range: ClosedRange<Int>) -> Int? {
        guard case let .scalar(scalar) = node, scalar.style == .plain, !isNull(scalar) else {
            error("\(what) must be a whole number from \(range.lowerBound) to \(range.upperBound), found \(kind(of: node))", at: node)
            return nil
        }
        let text = scalar.string
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(text), range.contains(value) else {
            error("\(what) must be a whole number from \(range.lowerBound) to \(range.upperBound), found `\(Quote.excerpt(text))`", at: node)
            return nil
        }
        return value
    }

    /// `true` or `false`, written plainly.
    func boolean(_ node: Node, _ what: String) -> Bool? {
        guard case let .scalar(scalar) = node, scalar.style == .plain, ["true", "false"].contains(scalar.string) else {
            error("\(what) must be `true` or `false`, found \(kind(of: node))", at: node)
            return nil
        }
        return scalar.string == "true"
    }

    func duration(_ node: Node, _ what: String, in range: ClosedRange<ConfigDuration>) -> ConfigDuration? {
        guard let text = string(node, what) else { return nil }
        guard let value = ConfigDuration(parsing: text) else {
            error("\(what) must be a duration such as `500ms`, `2s`, `1m` or `1h`, found `\(Quote.excerpt(text))`", at: node)
            return nil
        }
        guard range.contains(value) else {
            error("\(what) must be between \(range.lowerBound) and \(range.upperBound), found `\(Quote.excerpt(text))`", at: node)
            return nil
        }
        return value
    }

    /// One of a fixed set of words.
    func choice<Value: RawRepresentable & CaseIterable>(_ node: Node, _ what: String, as type: Value.Type = Value.self) -> Value?
    where Value.RawValue == String {
        guard let text = string(node, what) else { return nil }
        if let value = Value(rawValue: text) {
            return value
        }
        let words = Value.allCases.map(\.rawValue)
        let list = words.map { "`\($0)`" }.joined(separator: ", ")
        error("\(what) must be one of \(list), found `\(Quote.excerpt(text))`", at: node, hint: Self.suggestion(for: text, among: words))
        return nil
    }

    // MARK: Helpers

    private func isNull(_ scalar: Node.Scalar) -> Bool {
        scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    func kind(of node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case let .scalar(scalar):
            if isNull(scalar) { return "nothing" }
            return "`\(Quote.excerpt(scalar.string))`"
        case .alias: return "an alias"
        }
    }

    /// "did you mean `x`?" for a word close to one of the known ones.
    static func suggestion(for word: String, among candidates: [String]) -> String? {
        let lowered = word.lowercased()
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = EditDistance.between(lowered, candidate.lowercased())
            if distance <= max(1, min(3, candidate.count / 3)), distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        if let best {
            return "did you mean `\(best.candidate)`?"
        }
        guard !candidates.isEmpty else { return nil }
        return "expected one of " + candidates.map { "`\($0)`" }.joined(separator: ", ")
    }
}

/// The checked entries of one mapping.
struct Fields {
    let node: Node
    let entries: [(key: String, keyNode: Node, value: Node)]

    subscript(key: String) -> Node? {
        entries.first { $0.key == key }?.value
    }

    func keyNode(_ key: String) -> Node? {
        entries.first { $0.key == key }?.keyNode
    }
}
