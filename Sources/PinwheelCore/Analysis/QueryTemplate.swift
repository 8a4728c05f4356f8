import Foundation

/// A PromQL query with placeholders the controller fills in for each measurement: `{{environment}}`, `{{slot}}`,
/// `{{hosts}}`, `{{commit}}` and `{{version}}`.
///
/// Placeholders may only stand inside double-quoted string literals (`slot="{{slot}}"`, `host=~"{{hosts}}"`), and
/// what fills them is escaped for that literal, so no value (a host name, a version from a pull request) can change
/// the query's shape. `{{hosts}}` is a regular expression matching exactly the hosts switched so far, each name
/// escaped, for `=~`.
public struct QueryTemplate: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The placeholders a query may use.
    public enum Placeholder: String, Sendable, CaseIterable {
        case environment, slot, hosts, commit, version
    }

    /// What fills the placeholders for one measurement.
    public struct Values: Sendable, Hashable {
        public var environment: String
        /// The slot measured: the release's for the measurement, the stable one for its baseline.
        public var slot: Slot
        /// The hosts switched so far.
        public var hosts: [String]
        public var commit: String
        /// The version of the environment's main package in the slot measured.
        public var version: String

        public init(environment: String, slot: Slot, hosts: [String], commit: String, version: String) {
            self.environment = environment
            self.slot = slot
            self.hosts = hosts
            self.commit = commit
            self.version = version
        }
    }

    /// Why a template cannot be used.
    public enum Problem: Error, Hashable, CustomStringConvertible {
        case empty
        case tooLong(Int)
        case unknownPlaceholder(String)
        case outsideString(Placeholder)
        case unterminatedPlaceholder
        case controlCharacter

        public var description: String {
            switch self {
            case .empty: return "the query is empty"
            case let .tooLong(count): return "the query is \(count) characters long; at most \(QueryTemplate.maximumLength) are allowed"
            case let .unknownPlaceholder(name):
                return "unknown placeholder `{{\(Quote.excerpt(name))}}`; the placeholders are "
                    + Placeholder.allCases.map { "`{{\($0.rawValue)}}`" }.joined(separator: ", ")
            case let .outsideString(placeholder):
                return "`{{\(placeholder.rawValue)}}` must stand inside a double-quoted label value, e.g. `\(placeholder.example)`, so "
                    + "what fills it cannot change the query"
            case .unterminatedPlaceholder: return "a placeholder is opened with `{{` and not closed with `}}`"
            case .controlCharacter: return "the query has a control character other than a line break or a tab"
            }
        }
    }

    public static let maximumLength = 4096

    /// The template as written.
    public let text: String
    /// The placeholders it uses.
    public let placeholders: Set<Placeholder>

    public init(_ text: String) throws(Problem) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .empty }
        guard trimmed.count <= Self.maximumLength else { throw .tooLong(trimmed.count) }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t" }) else {
            throw .controlCharacter
        }
        var used = Set<Placeholder>()
        for piece in try Self.pieces(of: trimmed) {
            if case let .placeholder(placeholder, quoted) = piece {
                guard quoted else { throw .outsideString(placeholder) }
                used.insert(placeholder)
            }
        }
        self.text = trimmed
        self.placeholders = used
    }

    public var description: String { text }

    /// The query for `values`.
    public func render(_ values: Values) -> String {
        // The template was checked when it was made: it splits again the same way.
        guard let pieces = try? Self.pieces(of: text) else { return text }
        var query = ""
        for piece in pieces {
            switch piece {
            case let .text(text):
                query += text
            case let .placeholder(placeholder, _):
                query += Self.escaped(Self.value(of: placeholder, in: values))
            }
        }
        return query
    }

    static func value(of placeholder: Placeholder, in values: Values) -> String {
        switch placeholder {
        case .environment: return values.environment
        case .slot: return values.slot.rawValue
        case .commit: return values.commit
        case .version: return values.version
        case .hosts:
            // Nothing switched yet matches nothing (an empty alternation would match every host).
            guard !values.hosts.isEmpty else { return "$^" }
            return values.hosts.map(regexEscaped).joined(separator: "|")
        }
    }

    /// `text` for the inside of a PromQL double-quoted string.
    static func escaped(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.properties.generalCategory == .control {
                    result += String(format: "\\x%02x", scalar.value & 0xFF)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }

    /// `name` as a regular expression (RE2) that matches only itself.
    static func regexEscaped(_ name: String) -> String {
        var result = ""
        for character in name {
            if "\\.+*?()|[]{}^$".contains(character) { result.append("\\") }
            result.append(character)
        }
        return result
    }

    enum Piece: Equatable {
        case text(String)
        case placeholder(Placeholder, quoted: Bool)
    }

    /// The template cut into text and placeholders, each placeholder with whether it stands inside a double-quoted
    /// string literal (PromQL's `"…"`; single-quoted and backquoted strings take no placeholders).
    static func pieces(of text: String) throws(Problem) -> [Piece] {
        var pieces: [Piece] = []
        var current = ""
        var quote: Character?
        var escaping = false
        var index = text.startIndex
        var inComment = false
        while index < text.endIndex {
            let character = text[index]
            if inComment {
                current.append(character)
                if character == "\n" { inComment = false }
                index = text.index(after: index)
                continue
            }
            if text[index...].hasPrefix("{{") {
                guard let close = text[index...].range(of: "}}") else { throw .unterminatedPlaceholder }
                let name = text[text.index(index, offsetBy: 2)..<close.lowerBound].trimmingCharacters(in: .whitespaces)
                guard let placeholder = Placeholder(rawValue: name) else { throw .unknownPlaceholder(String(name.prefix(40))) }
                pieces.append(.text(current))
                current = ""
                pieces.append(.placeholder(placeholder, quoted: quote == "\""))
                index = close.upperBound
                continue
            }
            current.append(character)
            if let open = quote {
                if escaping {
                    escaping = false
                } else if character == "\\", open != "`" {
                    escaping = true
                } else if character == open {
                    quote = nil
                }
            } else if character == "\"" || character == "'" || character == "`" {
                quote = character
            } else if character == "#" {
                inComment = true
            }
            index = text.index(after: index)
        }
        pieces.append(.text(current))
        return pieces.filter { $0 != .text("") }
    }
}

extension QueryTemplate.Placeholder {
    /// How it is used, for messages.
    var example: String {
        switch self {
        case .hosts: return "host=~\"{{hosts}}\""
        default: return "\(rawValue)=\"{{\(rawValue)}}\""
        }
    }
}

extension QueryTemplate {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
