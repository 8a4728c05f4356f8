/// Reads TOML 1.0 into ``TOMLNode``s that know where they were written.
///
/// Pinwheel's own reader rather than a library: lock files arrive in pull requests, so the reader must refuse any
/// input with an error at its place and never crash (TOMLKit 0.6.0's toml++ stopped on an assertion in its time
/// parser for a mutated lock in the fuzz test, an assumption in a release build), and every error about a value needs
/// that value's line and column, which TOMLKit does not give. Nesting is bounded, so hostile input cannot exhaust the
/// stack.
public struct TOMLReader {
    /// What is wrong, and where.
    public struct Failure: Error, Sendable, Hashable {
        public var message: String
        public var line: Int
        public var column: Int
    }

    private let text: [Unicode.Scalar]
    private var index = 0
    private var line = 1
    private var column = 1
    private var root = TOMLNode.Table()
    /// The keys of the table that `key = value` lines go into (the last header).
    private var current: [String] = []
    private static let maximumDepth = 32

    private init(_ text: String) {
        self.text = Array(text.unicodeScalars)
        root.isDefined = true
    }

    public static func parse(_ text: String) -> Result<TOMLNode.Table, Failure> {
        var reader = TOMLReader(text)
        do throws(Failure) {
            try reader.document()
            return .success(reader.root)
        } catch {
            return .failure(error)
        }
    }

    // MARK: Characters

    private var peek: Unicode.Scalar? { index < text.count ? text[index] : nil }

    private func peek(_ offset: Int) -> Unicode.Scalar? { index + offset < text.count ? text[index + offset] : nil }

    private mutating func advance() {
        guard index < text.count else { return }
        if text[index] == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
        index += 1
    }

    private func fail(_ message: String) -> Failure {
        Failure(message: message, line: line, column: column)
    }

    private func describe(_ scalar: Unicode.Scalar?) -> String {
        guard let scalar else { return "the end of the file" }
        if scalar == "\n" { return "the end of the line" }
        if scalar.properties.generalCategory == .control { return "a control character" }
        return "`\(scalar)`"
    }

    private mutating func skipSpaces() {
        while let scalar = peek, scalar == " " || scalar == "\t" { advance() }
    }

    /// Spaces, a comment, then the end of the line (or of the file).
    private mutating func endOfLine() throws(Failure) {
        skipSpaces()
        try skipComment()
        if peek == "\r", peek(1) == "\n" { advance() }
        guard peek == nil || peek == "\n" else { throw fail("expected the end of the line, found \(describe(peek))") }
        advance()
    }

    private mutating func skipComment() throws(Failure) {
        guard peek == "#" else { return }
        while let scalar = peek, scalar != "\n" {
            if scalar.properties.generalCategory == .control, scalar != "\t", !(scalar == "\r" && peek(1) == "\n") {
                throw fail("a comment may not hold a control character")
            }
            advance()
        }
    }

    /// Spaces, comments and line ends, as arrays allow between their values.
    private mutating func skipBlank() throws(Failure) {
        while true {
            skipSpaces()
            try skipComment()
            if peek == "\r", peek(1) == "\n" { advance() }
            guard peek == "\n" else { return }
            advance()
        }
    }

    // MARK: Document

    private mutating func document() throws(Failure) {
        while true {
            try skipBlank()
            guard let scalar = peek else { return }
            if scalar == "[" {
                try header()
            } else {
                let (keys, keyLine, keyColumn) = try keyPath()
                skipSpaces()
                guard peek == "=" else { throw fail("expected `=` after the key, found \(describe(peek))") }
                advance()
                skipSpaces()
                let node = try value(depth: 0)
                try insert(node, at: current, keys, keyLine: keyLine, keyColumn: keyColumn)
            }
            try endOfLine()
        }
    }

    private mutating func header() throws(Failure) {
        let (startLine, startColumn) = (line, column)
        advance()
        let isArray = peek == "["
        if isArray { advance() }
        skipSpaces()
        let (keys, _, _) = try keyPath()
        skipSpaces()
        guard peek == "]" else { throw fail("expected `]` to close the table header, found \(describe(peek))") }
        advance()
        if isArray {
            guard peek == "]" else { throw fail("expected `]]` to close the array-of-tables header, found \(describe(peek))") }
            advance()
        }
        let node = TOMLNode(value: .table(TOMLNode.Table()), line: startLine, column: startColumn)
        try Self.modify(&root, path: keys.dropLast(), line: startLine, column: startColumn) { (parent: inout TOMLNode.Table) throws(Failure) in
            try Self.define(keys[keys.count - 1], node, array: isArray, in: &parent, line: startLine, column: startColumn)
        }
        current = keys
    }

    /// Adds the table of a `[header]` or `[[header]]` to `parent`.
    private static func define(_ key: String, _ node: TOMLNode, array: Bool, in parent: inout TOMLNode.Table,
                               line: Int, column: Int) throws(Failure) {
        var node = node
        let first = parent[key].map { ($0.line, $0.column) }
        switch (kind(of: parent[key]), array) {
        case (.none, false):
            node.value = .table(defined(TOMLNode.Table()))
            parent.set(key, node)
        case (.openTable, false):
            guard var existing = parent.take(key), var table = takeTable(&existing) else { return }
            table.isDefined = true
            existing.value = .table(table)
            parent.put(key, existing)
        case (.definedTable, false):
            throw Failure(message: "the table `\(key)` is defined twice (first at line \(first?.0 ?? 0))", line: line, column: column)
        case (.none, true):
            var element = defined(TOMLNode.Table())
            element.isArrayElement = true
            node.value = .table(element)
            parent.set(key, TOMLNode(value: .array([node]), line: line, column: column))
        case (.arrayOfTables, true):
            var element = defined(TOMLNode.Table())
            element.isArrayElement = true
            node.value = .table(element)
            // Taken out and appended in place (see `modify`).
            guard var existing = parent.take(key), var all = takeArrayOfTables(&existing) else { return }
            all.append(node)
            existing.value = .array(all)
            parent.put(key, existing)
        default:
            throw Failure(message: "`\(key)` is already a value (line \(first?.0 ?? 0)), not \(array ? "an array of tables" : "a table")",
                          line: line, column: column)
        }
    }

    private enum Kind {
        case none, openTable, definedTable, arrayOfTables, other
    }

    /// What a key holds, read without keeping a reference to it, so that it can then be changed in place.
    private static func kind(of node: TOMLNode?) -> Kind {
        guard let node else { return .none }
        switch node.value {
        case .table(let table): return table.isDefined || table.isInline ? .definedTable : .openTable
        case .array(let items) where items.first?.table?.isArrayElement == true: return .arrayOfTables
        default: return .other
        }
    }

    private static func defined(_ table: TOMLNode.Table) -> TOMLNode.Table {
        var table = table
        table.isDefined = true
        return table
    }

    /// Runs `body` on the table at `path` below `table`, creating the tables it implies; an array of tables stands
    /// for its last element, as TOML says.
    /// Implied tables are placed at `line` and `column`, where the header or key that implies them is written.
    private static func modify(_ table: inout TOMLNode.Table, path: ArraySlice<String>, line: Int, column: Int,
                               _ body: (inout TOMLNode.Table) throws(Failure) -> Void) throws(Failure) {
        guard let key = path.first else {
            try body(&table)
            return
        }
        let rest = path.dropFirst()
        // The node is taken out of its table and its payload out of the node while it changes, so that the
        // payload has one owner and is changed in place: copying an array of thousands of `[[packages]]` for every
        // key would make reading a large (or hostile) file quadratic.
        guard var node = table.take(key) else {
            var created = TOMLNode.Table()
            try modify(&created, path: rest, line: line, column: column, body)
            table.set(key, TOMLNode(value: .table(created), line: line, column: column))
            return
        }
        if var inner = takeTable(&node) {
            try modify(&inner, path: rest, line: line, column: column, body)
            node.value = .table(inner)
            table.put(key, node)
        } else if var items = takeArrayOfTables(&node) {
            var lastNode = items.removeLast()
            guard var last = takeTable(&lastNode) else { return }
            try modify(&last, path: rest, line: line, column: column, body)
            lastNode.value = .table(last)
            items.append(lastNode)
            node.value = .array(items)
            table.put(key, node)
        } else {
            throw Failure(message: "`\(key)` is a value (line \(node.line)), so nothing can be added under it", line: node.line, column: node.column)
        }
    }

    /// Moves a table that may still get keys (not an inline one) out of `node`, so that the caller owns it alone and
    /// changes it in place; nil, and `node` unchanged, for anything else.
    private static func takeTable(_ node: inout TOMLNode) -> TOMLNode.Table? {
        guard case .table(let table) = node.value, !table.isInline else { return nil }
        node.value = .boolean(false)
        return table
    }

    /// Moves an array of tables (`[[…]]`) out of `node`, as ``takeTable(_:)`` does.
    private static func takeArrayOfTables(_ node: inout TOMLNode) -> [TOMLNode]? {
        guard case .array(let items) = node.value, items.last?.table?.isArrayElement == true else { return nil }
        node.value = .boolean(false)
        return items
    }

    /// Sets `keys` (a dotted key) below the table at `base` to `node`.
    private mutating func insert(_ node: TOMLNode, at base: [String], _ keys: [String], keyLine: Int, keyColumn: Int) throws(Failure) {
        try Self.modify(&root, path: base[...], line: keyLine, column: keyColumn) { (table: inout TOMLNode.Table) throws(Failure) in
            try Self.modify(&table, path: keys.dropLast(), line: keyLine, column: keyColumn) { (target: inout TOMLNode.Table) throws(Failure) in
                let key = keys[keys.count - 1]
                if let existing = target[key] {
                    throw Failure(message: "the key `\(key)` is set twice (first at line \(existing.line))", line: keyLine, column: keyColumn)
                }
                target.set(key, node)
            }
        }
    }

    // MARK: Keys

    private mutating func keyPath() throws(Failure) -> ([String], Int, Int) {
        let (startLine, startColumn) = (line, column)
        var keys = [try simpleKey()]
        while true {
            skipSpaces()
            guard peek == "." else { break }
            advance()
            skipSpaces()
            keys.append(try simpleKey())
            guard keys.count <= Self.maximumDepth else { throw fail("the key has too many parts") }
        }
        return (keys, startLine, startColumn)
    }

    private static func isBare(_ scalar: Unicode.Scalar) -> Bool {
        ("A"..."Z").contains(scalar) || ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-"
    }

    private mutating func simpleKey() throws(Failure) -> String {
        switch peek {
        case "\"":
            guard peek(1) != "\"" || peek(2) != "\"" else { throw fail("a key cannot be a multi-line string") }
            return try basicString()
        case "'":
            guard peek(1) != "'" || peek(2) != "'" else { throw fail("a key cannot be a multi-line string") }
            return try literalString()
        case let scalar? where Self.isBare(scalar):
            var key = ""
            while let scalar = peek, Self.isBare(scalar) {
                key.unicodeScalars.append(scalar)
                advance()
            }
            return key
        default:
            throw fail("expected a key, found \(describe(peek))")
        }
    }

    // MARK: Values

    private mutating func value(depth: Int) throws(Failure) -> TOMLNode {
        let (startLine, startColumn) = (line, column)
        guard depth < Self.maximumDepth else { throw fail("arrays and inline tables nest too deeply") }
        let value: TOMLNode.Value
        switch peek {
        case "\"":
            value = .string(peek(1) == "\"" && peek(2) == "\"" ? try multilineString(literal: false) : try basicString())
        case "'":
            value = .string(peek(1) == "'" && peek(2) == "'" ? try multilineString(literal: true) : try literalString())
        case "[":
            value = try array(depth: depth)
        case "{":
            value = try inlineTable(depth: depth)
        case nil, "\n", "#":
            throw fail("expected a value, found \(describe(peek))")
        default:
            value = try scalarValue()
        }
        return TOMLNode(value: value, line: startLine, column: startColumn)
    }

    private mutating func array(depth: Int) throws(Failure) -> TOMLNode.Value {
        advance()
        var items: [TOMLNode] = []
        while true {
            try skipBlank()
            if peek == "]" {
                advance()
                return .array(items)
            }
            items.append(try value(depth: depth + 1))
            try skipBlank()
            if peek == "," {
                advance()
            } else if peek != "]" {
                throw fail("expected `,` or `]` in the array, found \(describe(peek))")
            }
        }
    }

    private mutating func inlineTable(depth: Int) throws(Failure) -> TOMLNode.Value {
        advance()
        var table = TOMLNode.Table()
        skipSpaces()
        if peek == "}" {
            advance()
            table.isInline = true
            return .table(table)
        }
        while true {
            skipSpaces()
            let (keys, keyLine, keyColumn) = try keyPath()
            skipSpaces()
            guard peek == "=" else { throw fail("expected `=` after the key, found \(describe(peek))") }
            advance()
            skipSpaces()
            let node = try value(depth: depth + 1)
            try Self.modify(&table, path: keys.dropLast(), line: keyLine, column: keyColumn) { (target: inout TOMLNode.Table) throws(Failure) in
                let key = keys[keys.count - 1]
                if let existing = target[key] {
                    throw Failure(message: "the key `\(key)` is set twice (first at line \(existing.line))", line: keyLine, column: keyColumn)
                }
                target.set(key, node)
            }
            skipSpaces()
            if peek == "}" {
                advance()
                table.isInline = true
                return .table(table)
            }
            guard peek == "," else { throw fail("expected `,` or `}` in the inline table, found \(describe(peek))") }
            advance()
        }
    }

    private mutating func basicString() throws(Failure) -> String {
        advance()
        var result = ""
        while true {
            guard let scalar = peek, scalar != "\n" else { throw fail("the string is not closed on its line") }
            advance()
            switch scalar {
            case "\"":
                return result
            case "\\":
                result.unicodeScalars.append(try escape())
            default:
                guard scalar == "\t" || scalar.properties.generalCategory != .control else {
                    throw fail("a string may not hold a control character; write it as an escape")
                }
                result.unicodeScalars.append(scalar)
            }
        }
    }

    private mutating func escape() throws(Failure) -> Unicode.Scalar {
        guard let scalar = peek else { throw fail("the escape is not finished") }
        advance()
        switch scalar {
        case "b": return "\u{8}"
        case "t": return "\t"
        case "n": return "\n"
        case "f": return "\u{C}"
        case "r": return "\r"
        case "\"": return "\""
        case "\\": return "\\"
        case "u", "U":
            var hex = ""
            for _ in 0..<(scalar == "u" ? 4 : 8) {
                guard let digit = peek, digit.properties.isASCIIHexDigit else { throw fail("expected a hex digit in the escape") }
                hex.unicodeScalars.append(digit)
                advance()
            }
            guard let code = UInt32(hex, radix: 16), let result = Unicode.Scalar(code) else {
                throw fail("`\\\(scalar)\(hex)` is not a Unicode scalar value")
            }
            return result
        default:
            throw fail("`\\\(scalar)` is not a TOML escape")
        }
    }

    private mutating func literalString() throws(Failure) -> String {
        advance()
        var result = ""
        while true {
            guard let scalar = peek, scalar != "\n" else { throw fail("the string is not closed on its line") }
            advance()
            if scalar == "'" { return result }
            guard scalar == "\t" || scalar.properties.generalCategory != .control else {
                throw fail("a string may not hold a control character")
            }
            result.unicodeScalars.append(scalar)
        }
    }

    private mutating func multilineString(literal: Bool) throws(Failure) -> String {
        let quote: Unicode.Scalar = literal ? "'" : "\""
        advance(); advance(); advance()
        // A line end right after the opening quotes is not part of the string.
        if peek == "\r", peek(1) == "\n" { advance() }
        if peek == "\n" { advance() }
        var result = ""
        while true {
            guard let scalar = peek else { throw fail("the multi-line string is not closed") }
            if scalar == quote, peek(1) == quote, peek(2) == quote {
                advance(); advance(); advance()
                // Up to two more quotes belong to the string.
                var extra = 0
                while peek == quote, extra < 2 {
                    result.unicodeScalars.append(quote)
                    advance()
                    extra += 1
                }
                return result
            }
            advance()
            if !literal, scalar == "\\" {
                // A backslash at the end of a line trims the line end and the white space after it.
                var probe = index
                while probe < text.count, text[probe] == " " || text[probe] == "\t" || text[probe] == "\r" { probe += 1 }
                if probe < text.count, text[probe] == "\n" {
                    while let next = peek, next == " " || next == "\t" || next == "\r" || next == "\n" { advance() }
                    continue
                }
                result.unicodeScalars.append(try escape())
                continue
            }
            guard scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar.properties.generalCategory != .control else {
                throw fail("a string may not hold a control character")
            }
            result.unicodeScalars.append(scalar)
        }
    }

    /// Numbers, booleans and date-times: a run of the characters they are made of, then recognised as a whole.
    private mutating func scalarValue() throws(Failure) -> TOMLNode.Value {
        let (startLine, startColumn) = (line, column)
        var token = ""
        while let scalar = peek, Self.isBare(scalar) || scalar == "." || scalar == ":" || scalar == "+" {
            token.unicodeScalars.append(scalar)
            advance()
            // A date and a time separated by a space: `1979-05-27 07:32:00`.
            if token.unicodeScalars.count == 10, token.wholeMatch(of: /[0-9]{4}-[0-9]{2}-[0-9]{2}/) != nil, peek == " ",
               let next = peek(1), ("0"..."9").contains(next) {
                token.unicodeScalars.append("T")
                advance()
            }
            guard token.unicodeScalars.count <= 100 else { throw fail("the value is too long") }
        }
        if let value = Self.recognise(token) { return value }
        throw Failure(message: token.isEmpty ? "expected a value, found \(describe(peek))"
                          : "`\(Quote.excerpt(token))` is not a TOML value (strings need quotes)",
                      line: startLine, column: startColumn)
    }

    private static func recognise(_ token: String) -> TOMLNode.Value? {
        switch token {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        if token.wholeMatch(of: /[+-]?(0|[1-9](_?[0-9])*)/) != nil {
            return Int(token.replacing("_", with: "")).map { .integer($0) }
        }
        if token.wholeMatch(of: /0x([0-9A-Fa-f](_?[0-9A-Fa-f])*)|0o([0-7](_?[0-7])*)|0b([01](_?[01])*)/) != nil {
            let radix = token.hasPrefix("0x") ? 16 : token.hasPrefix("0o") ? 8 : 2
            return Int(token.dropFirst(2).replacing("_", with: ""), radix: radix).map { .integer($0) }
        }
        if token.wholeMatch(of: /[+-]?(0|[1-9](_?[0-9])*)(\.[0-9](_?[0-9])*)?([eE][+-]?[0-9](_?[0-9])*)?/) != nil {
            return Double(token.replacing("_", with: "")).map { .float($0) }
        }
        let dateTime = /[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([Tt]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?([zZ]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?/
        let time = /([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?/
        if token.wholeMatch(of: dateTime) != nil || token.wholeMatch(of: time) != nil {
            return .dateTime(token)
        }
        return nil
    }
}
