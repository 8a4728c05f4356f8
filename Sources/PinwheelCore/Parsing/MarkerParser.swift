/// Reads a PEP 508 environment marker (the text after `;` in a requirement, or `marker = "…"` in a `pylock.toml`).
///
/// Pure: a failure carries the offset (in characters from the start of the marker) of what is wrong, so the caller
/// turns it into a `path:line:column` in the file the marker came from.
public struct MarkerParser {
    /// What is wrong with a marker, and where in it.
    public struct Failure: Error, Sendable, Hashable {
        public var message: String
        /// Characters from the start of the marker text.
        public var offset: Int
    }

    /// Markers longer than this are refused: nothing real comes close, and evaluation cost grows with the size.
    public static let maximumLength = 1000

    private enum Token: Equatable {
        case open, close
        case literal(String)
        case name(String)
        case op(String)
        case end
    }

    private let text: [Character]
    private var tokens: [(token: Token, offset: Int)] = []
    private var position = 0
    /// How deep parentheses nest, bounded so that hostile input cannot exhaust the stack.
    private var depth = 0

    private init(_ text: String) {
        self.text = Array(text)
    }

    public static func parse(_ text: String) -> Result<Marker, Failure> {
        var parser = MarkerParser(text)
        do throws(Failure) {
            guard parser.text.count <= maximumLength else {
                throw Failure(message: "the marker is longer than \(maximumLength) characters", offset: 0)
            }
            try parser.tokenize()
            let marker = try parser.parseOr()
            guard case .end = parser.current.token else {
                throw Failure(message: "unexpected \(parser.describe(parser.current.token)) after a complete marker", offset: parser.current.offset)
            }
            return .success(marker)
        } catch {
            return .failure(error)
        }
    }

    // MARK: Tokens

    /// Characters PEP 508 allows inside a quoted string (`python_str_c`), besides letters and digits.
    private static let stringPunctuation = Set(" \t().{}-_*#:;,/?[]!~`@$%^&=+|<>")

    private mutating func tokenize() throws(Failure) {
        var index = 0
        while index < text.count {
            let character = text[index]
            if character == " " || character == "\t" {
                index += 1
                continue
            }
            let start = index
            switch character {
            case "(":
                tokens.append((.open, start))
                index += 1
            case ")":
                tokens.append((.close, start))
                index += 1
            case "'", "\"":
                index += 1
                var value = ""
                while index < text.count, text[index] != character {
                    let inner = text[index]
                    guard inner.isASCII, inner.isLetter || inner.isNumber || inner == "'" || inner == "\""
                            || Self.stringPunctuation.contains(inner) else {
                        throw Failure(message: "`\(Quote.excerpt(String(inner)))` is not allowed in a marker's string", offset: index)
                    }
                    value.append(inner)
                    index += 1
                }
                guard index < text.count else {
                    throw Failure(message: "the string is not closed: add \(character)", offset: start)
                }
                index += 1
                tokens.append((.literal(value), start))
            case "<", ">", "=", "!", "~":
                var op = String(character)
                index += 1
                while index < text.count, "<>=!~".contains(text[index]) {
                    op.append(text[index])
                    index += 1
                }
                guard Marker.Operator(rawValue: op) != nil, op != "in", op != "not in" else {
                    throw Failure(message: "`\(Quote.excerpt(op))` is not a comparison", offset: start)
                }
                tokens.append((.op(op), start))
            default:
                guard character.isASCII, character.isLetter || character == "_" else {
                    throw Failure(message: "`\(Quote.excerpt(String(character)))` is not allowed in a marker", offset: start)
                }
                var name = ""
                while index < text.count, text[index].isASCII,
                      text[index].isLetter || text[index].isNumber || text[index] == "_" || text[index] == "." {
                    name.append(text[index])
                    index += 1
                }
                tokens.append((.name(name), start))
            }
        }
        tokens.append((.end, text.count))
    }

    private var current: (token: Token, offset: Int) { tokens[min(position, tokens.count - 1)] }

    private func describe(_ token: Token) -> String {
        switch token {
        case .open: "`(`"
        case .close: "`)`"
        case .literal(let value): "the string `\(Quote.excerpt(value))`"
        case .name(let name): "`\(Quote.excerpt(name))`"
        case .op(let op): "`\(op)`"
        case .end: "the end"
        }
    }

    // MARK: Grammar

    private mutating func parseOr() throws(Failure) -> Marker {
        var marker = try parseAnd()
        while case .name("or") = current.token {
            position += 1
            marker = .or(marker, try parseAnd())
        }
        return marker
    }

    private mutating func parseAnd() throws(Failure) -> Marker {
        var marker = try parseExpression()
        while case .name("and") = current.token {
            position += 1
            marker = .and(marker, try parseExpression())
        }
        return marker
    }

    private mutating func parseExpression() throws(Failure) -> Marker {
        if case .open = current.token {
            let open = current.offset
            depth += 1
            guard depth <= 32 else { throw Failure(message: "parentheses nest too deeply", offset: open) }
            position += 1
            let inner = try parseOr()
            guard case .close = current.token else {
                throw Failure(message: "expected `)` to close the `(` at column \(open + 1) of the marker, found \(describe(current.token))",
                              offset: current.offset)
            }
            position += 1
            depth -= 1
            return inner
        }
        let lhs = try parseOperand()
        let op = try parseOperator()
        let rhs = try parseOperand()
        return .compare(lhs, op, rhs)
    }

    private mutating func parseOperand() throws(Failure) -> Marker.Operand {
        let (token, offset) = current
        switch token {
        case .literal(let value):
            position += 1
            return .literal(value)
        case .name(let name):
            guard let variable = Marker.Variable(spelling: name) else {
                let known = Marker.Variable.allCases.map(\.rawValue).joined(separator: ", ")
                throw Failure(message: "`\(Quote.excerpt(name))` is not a marker variable (PEP 508 has \(known))", offset: offset)
            }
            position += 1
            return .variable(variable)
        default:
            throw Failure(message: "expected a marker variable or a quoted string, found \(describe(token))", offset: offset)
        }
    }

    private mutating func parseOperator() throws(Failure) -> Marker.Operator {
        let (token, offset) = current
        switch token {
        case .op(let op):
            position += 1
            // The tokenizer only keeps spellings that are operators.
            return Marker.Operator(rawValue: op) ?? .equal
        case .name("in"):
            position += 1
            return .in
        case .name("not"):
            position += 1
            guard case .name("in") = current.token else {
                throw Failure(message: "expected `in` after `not`", offset: current.offset)
            }
            position += 1
            return .notIn
        default:
            throw Failure(message: "expected a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`, `~=`, `===`, `in`, `not in`), found \(describe(token))",
                          offset: offset)
        }
    }
}
