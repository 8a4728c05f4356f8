import Yams

/// A parsed YAML file that remembers where each node came from.
struct YAMLDocument {
    let path: String
    let root: Node

    /// Parses `text`, reporting syntax errors at their line and column. Returns nil when nothing usable was read.
    static func parse(_ text: String, path: String, log: DiagnosticLog) -> YAMLDocument? {
        if let tooLarge = ConfigLimits.sizeError(of: text) {
            log.error(tooLarge, at: SourceLocation(path: path, line: 1, column: 1), hint: "is this the right file?")
            return nil
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            log.append(contentsOf: [diagnostic(for: error, path: path, text: text)])
            return nil
        } catch {
            log.error("cannot read YAML: \(error)", at: SourceLocation(path: path))
            return nil
        }
        guard let root else {
            log.error("the file is empty", at: SourceLocation(path: path), hint: "see the format reference in docs/config.md")
            return nil
        }
        var budget = ConfigLimits.maxYAMLNodes
        guard fits(root, within: &budget) else {
            log.error("the file expands to more than \(ConfigLimits.maxYAMLNodes) YAML nodes", at: SourceLocation(path: path, line: 1, column: 1),
                      hint: "anchors and aliases (`&name`, `*name`) that refer to each other multiply what a file holds; "
                          + "Pinwheel's files need none")
            return nil
        }
        return YAMLDocument(path: path, root: root)
    }

    /// Counts the nodes under `node`, aliases expanded, and stops as soon as the budget is spent.
    private static func fits(_ node: Node, within budget: inout Int) -> Bool {
        budget -= 1
        guard budget >= 0 else { return false }
        switch node {
        case .scalar, .alias:
            return true
        case let .mapping(mapping):
            for (key, value) in mapping where !fits(key, within: &budget) || !fits(value, within: &budget) {
                return false
            }
            return true
        case let .sequence(sequence):
            for element in sequence where !fits(element, within: &budget) {
                return false
            }
            return true
        }
    }

    func location(of node: Node) -> SourceLocation {
        Self.location(path: path, mark: node.mark)
    }

    static func location(path: String, mark: Mark?) -> SourceLocation {
        guard let mark else { return SourceLocation(path: path) }
        return SourceLocation(path: path, line: max(mark.line, 1), column: max(mark.column, 1))
    }

    private static func diagnostic(for error: YamlError, path: String, text: String) -> Diagnostic {
        func syntax(_ problem: String, _ context: YamlError.Context?, _ mark: Mark) -> Diagnostic {
            var message = "YAML syntax error: \(problem)"
            if let context, !context.text.isEmpty {
                message += " \(context.text)"
            }
            return Diagnostic(at: location(path: path, mark: mark), message,
                              hint: "check the indentation and quoting on this line")
        }
        switch error {
        case let .scanner(context, problem, mark, _):
            return syntax(problem, context, mark)
        case let .parser(context, problem, mark, _):
            return syntax(problem, context, mark)
        case let .composer(context, problem, mark, _):
            return syntax(problem, context, mark)
        case let .duplicatedKeysInMapping(duplicates, context):
            let first = location(path: path, mark: context.mark)
            let hint = "each key may appear once; remove or merge the repeated entries"
            if let key = duplicates.first, let duplicate = DuplicateKey.locate(key, firstAt: context.mark, in: text) {
                return Diagnostic(at: SourceLocation(path: path, line: duplicate.line, column: duplicate.column),
                                  "duplicate key `\(Quote.excerpt(key))`; the first is at line \(first.line)", hint: hint)
            }
            let keys = duplicates.map { "`\(Quote.excerpt($0))`" }.joined(separator: ", ")
            return Diagnostic(at: first, "duplicate key \(keys) in a mapping", hint: hint)
        case let .reader(problem, offset, _, _):
            return Diagnostic(at: location(path: path, offset: offset, in: text), "cannot read the file: \(problem)",
                              hint: "save it as UTF-8 text")
        default:
            return Diagnostic(at: SourceLocation(path: path), "cannot read YAML: \(error)")
        }
    }

    private static func location(path: String, offset: Int?, in text: String) -> SourceLocation {
        guard let offset, offset >= 0 else { return SourceLocation(path: path) }
        var line = 1
        var column = 1
        for (index, scalar) in text.unicodeScalars.enumerated() {
            if index >= offset { break }
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return SourceLocation(path: path, line: line, column: column)
    }
}
