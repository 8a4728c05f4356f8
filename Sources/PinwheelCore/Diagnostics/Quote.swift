/// Quoting text from a config file in a message.
///
/// A message never repeats a whole line of a file it cannot vouch for: at most a short prefix, so a file that is
/// not what it should be (a secret pushed in by mistake, say) is not published by the errors about it.
public enum Quote {
    /// The longest excerpt a message quotes, in characters (the ellipsis not counted).
    public static let limit = 40

    /// `text`, cut to `limit` characters with `…` when longer, control characters shown as `?`.
    public static func excerpt(_ text: some StringProtocol, limit: Int = Quote.limit) -> String {
        var result = ""
        var count = 0
        for character in text {
            if count == limit {
                result += "…"
                break
            }
            result.append(character.unicodeScalars.contains { $0.properties.generalCategory == .control } ? "?" : character)
            count += 1
        }
        return result
    }
}
