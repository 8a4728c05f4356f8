/// A TOML value and where it was written (1-based line and column, in Unicode scalars), as ``TOMLReader`` reads it.
///
/// Positions are what a lock file's errors need (``pylock.A.toml:12:11: wheel 1 of `asgiref` has no `hashes` ``); tables
/// keep their keys in the order written.
public struct TOMLNode: Sendable, Hashable {
    public enum Value: Sendable, Hashable {
        case string(String)
        case integer(Int)
        case float(Double)
        case boolean(Bool)
        /// An offset or local date-time, date or time, as written.
        case dateTime(String)
        case array([TOMLNode])
        case table(Table)
    }

    /// A table's keys, in the order written, and their values.
    public struct Table: Sendable, Hashable {
        public private(set) var keys: [String] = []
        public private(set) var values: [String: TOMLNode] = [:]
        /// Written as `{ … }`: TOML allows no key to be added to it later.
        var isInline = false
        /// Defined by a `[header]` of its own (a second one is an error), not only implied by a longer one.
        var isDefined = false
        /// An element of an array of tables (`[[packages]]`).
        var isArrayElement = false

        public subscript(key: String) -> TOMLNode? { values[key] }

        mutating func set(_ key: String, _ node: TOMLNode) {
            if values[key] == nil { keys.append(key) }
            values[key] = node
        }

        /// Removes the value of `key` while it is changed, keeping the key's place; ``put(_:_:)`` puts it back.
        mutating func take(_ key: String) -> TOMLNode? {
            values.removeValue(forKey: key)
        }

        mutating func put(_ key: String, _ node: TOMLNode) {
            values[key] = node
        }
    }

    public var value: Value
    public var line: Int
    public var column: Int

    public var string: String? {
        if case .string(let text) = value { return text }
        return nil
    }

    public var integer: Int? {
        if case .integer(let number) = value { return number }
        return nil
    }

    public var array: [TOMLNode]? {
        if case .array(let items) = value { return items }
        return nil
    }

    public var table: Table? {
        if case .table(let table) = value { return table }
        return nil
    }

    public func location(in path: String) -> SourceLocation {
        SourceLocation(path: path, line: line, column: column)
    }
}
