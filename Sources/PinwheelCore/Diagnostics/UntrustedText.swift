/// Text that came from outside the process's trust — a host's reply, a program's output, a commit message, a
/// header — made safe to show: bounded in size and with its control characters made visible.
///
/// Why: a compromised host (or a program it runs) can answer anything. Unbounded, its text fills every status
/// commit, notification and page; raw, an ANSI escape sequence rewrites the operator's terminal, a carriage return
/// hides the start of a log line, a lone newline forges a log line of its own, and a bidi override makes a line
/// read differently from what it says. Every place where such text leaves the process (logs, terminals, CI
/// annotations, chat payloads) goes through here, so the rules are the same everywhere and tested once.
///
/// Pure: no I/O, no Foundation.
public enum UntrustedText {
    /// The longest single string kept from a host's reply (an error, one output line, a problem), in UTF-16 code
    /// units. Real ones are a few hundred; a log line of a program that prints a stack trace stays whole.
    public static let hostStringLimit = 4096
    /// The longest reply line accepted from a host agent or doctor, in bytes. A real observation of a host with
    /// many programs is tens of kilobytes.
    public static let replyLimit = 4 << 20
    /// The most output lines kept per step of a host's reply: the last ones, where a failure's cause is.
    public static let outputLineLimit = 200
    /// The longest value written to one log field, in UTF-16 code units.
    public static let logFieldLimit = 8192

    /// What replaces a secret value.
    public static let redactedMarker = "[redacted]"

    /// `text` cut to at most `limit` UTF-16 code units (what chat services and browsers count), marker included,
    /// never in the middle of a Unicode scalar; unchanged when it fits. The cut is marked with how much there was.
    ///
    /// UTF-16 code units are never fewer than characters or Unicode scalars, so a text bounded here also fits a
    /// limit counted in either of those.
    public static func bounded(_ text: String, limit: Int) -> String {
        precondition(limit >= 0, "a limit is not negative")
        // UTF-16 never has more units than UTF-8 has bytes: a text with few bytes fits without counting.
        if text.utf8.count <= limit { return text }
        if text.utf16.count <= limit { return text }
        let marker = "… [cut: \(text.utf8.count) bytes]"
        let room = limit - marker.utf16.count
        guard room > 0 else { return String(marker.unicodeScalars.prefix(limit).map(Character.init)) }
        var kept = String.UnicodeScalarView()
        var used = 0
        for scalar in text.unicodeScalars {
            let units = scalar.utf16.count
            if used + units > room { break }
            kept.append(scalar)
            used += units
        }
        return String(kept) + marker
    }

    /// Whether `scalar` must not reach a terminal or a log as it is: C0 controls (line breaks and tab included),
    /// DEL, C1 controls, the Unicode line and paragraph separators, and the bidirectional formatting characters
    /// (the "Trojan Source" overrides, embeddings, isolates and marks).
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x2028, 0x2029: return true
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// How a control character is shown: `\n`, `\r`, `\t`, and `\u{1B}` for the others (ESC here).
    public static func visible(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default:
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "\\u{" + String(repeating: "0", count: max(0, 2 - hex.count)) + hex + "}"
        }
    }

    /// `text` on one line with every control character visible (see ``isControl(_:)``), for a log field, a
    /// status line or a chat message. Backslashes are left as they are: the text is shown, not parsed back.
    public static func escaped(_ text: String) -> String {
        escape(text, keepingNewlines: false)
    }

    /// `text` for a terminal: as ``escaped(_:)``, but line breaks (`\n`) and tabs kept, so multi-line output and a
    /// program's aligned columns stay readable. An ANSI escape sequence shows as `\u{1B}[…` and does nothing.
    public static func terminal(_ text: String) -> String {
        escape(text, keepingNewlines: true)
    }

    private static func escape(_ text: String, keepingNewlines: Bool) -> String {
        func kept(_ scalar: Unicode.Scalar) -> Bool { keepingNewlines && (scalar == "\n" || scalar == "\t") }
        guard text.unicodeScalars.contains(where: { isControl($0) && !kept($0) }) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            if isControl(scalar), !kept(scalar) {
                result += visible(scalar)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Bytes as text: invalid UTF-8 becomes U+FFFD (never a crash, never a raw byte), then bounded to `limit`.
    public static func decoding(_ bytes: some Collection<UInt8>, limit: Int = hostStringLimit) -> String {
        bounded(String(decoding: bytes, as: UTF8.self), limit: limit)
    }

    /// `text` with every occurrence of each of `secrets` replaced by ``redactedMarker``. Values shorter than 6
    /// characters are not secrets worth the name and would redact ordinary words: they are left alone.
    public static func redacting(_ secrets: some Sequence<String>, in text: String) -> String {
        var result = text
        for secret in Set(secrets) where secret.count >= 6 {
            if result.contains(secret) {
                result = result.split(separator: secret, omittingEmptySubsequences: false).joined(separator: redactedMarker)
            }
        }
        return result
    }
}
