/// A duration as written in the config (`500ms`, `2s`, `1m`, `1h`), kept in milliseconds.
///
/// Rendered back in the same short form so that `show`, `diff` and status files read like the config.
public struct ConfigDuration: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    public static func seconds(_ seconds: Int64) -> ConfigDuration {
        ConfigDuration(milliseconds: seconds * 1000)
    }

    /// Parses `<number><unit>` with unit `ms`, `s`, `m` or `h`; the number may have a decimal part (`1.5s`).
    public init?(parsing text: String) {
        let units: [(suffix: String, factor: Double)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        guard let unit = units.first(where: { text.hasSuffix($0.suffix) }) else { return nil }
        let number = text.dropLast(unit.suffix.count)
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              number.first != ".", number.last != ".", number.filter({ $0 == "." }).count <= 1,
              number.count <= 12, let value = Double(number)
        else { return nil }
        let milliseconds = (value * unit.factor).rounded()
        guard milliseconds == value * unit.factor else { return nil }
        self.milliseconds = Int64(milliseconds)
    }

    public var duration: Duration { .milliseconds(milliseconds) }

    public var description: String {
        if milliseconds == 0 { return "0s" }
        if milliseconds % 3_600_000 == 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }

    public static func < (lhs: ConfigDuration, rhs: ConfigDuration) -> Bool {
        lhs.milliseconds < rhs.milliseconds
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = ConfigDuration(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a duration: \(text)")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
