/// Text a host sent (an error, a program's output), made safe to keep: cut to a bound and with control characters
/// escaped, so a compromised or chatty host cannot push megabytes or terminal escapes into a report.
public enum HostText {
    /// The longest diagnosis kept from a host, in characters.
    public static let messageLimit = 500
    /// The longest output kept from a host for logs, the page and notifications, in characters.
    public static let detailLimit = 4000

    /// `text` cut to `limit` characters (its end kept when `keepingEnd`, where a log's newest lines are) with `…`,
    /// its control characters escaped (`\n`, `\t`, `\u{1B}`) unless `newlines` keeps line breaks.
    public static func bounded(_ text: some StringProtocol, limit: Int, keepingEnd: Bool = false, newlines: Bool = false) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n" where newlines: escaped.unicodeScalars.append(scalar)
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default:
                if scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format
                    && scalar.value != 0x200D {
                    escaped += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        guard escaped.count > limit, limit > 1 else { return escaped }
        return keepingEnd ? "…" + String(escaped.suffix(limit - 1)) : String(escaped.prefix(limit - 1)) + "…"
    }
}
