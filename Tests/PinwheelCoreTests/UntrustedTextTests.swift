import Testing
@testable import PinwheelCore

/// The rules every text from a host, a program or a commit goes through before a log, a terminal, a CI annotation
/// or a chat message shows it.
@Suite("Untrusted text")
struct UntrustedTextTests {
    @Test func anANSIEscapeSequenceIsShownNotObeyed() {
        let text = "ok\u{1B}[2J\u{1B}[31mred\u{1B}]0;title\u{07}"
        let escaped = UntrustedText.escaped(text)
        #expect(escaped == "ok\\u{1B}[2J\\u{1B}[31mred\\u{1B}]0;title\\u{07}")
        #expect(!escaped.unicodeScalars.contains { UntrustedText.isControl($0) })
    }

    @Test func carriageReturnsLineBreaksAndTabsAreVisible() {
        #expect(UntrustedText.escaped("real\rfake\nline\tx") == "real\\rfake\\nline\\tx")
        // On a terminal, line breaks stay (multi-line errors), the carriage return that would hide a line does not.
        #expect(UntrustedText.terminal("one\ntwo\rthree\tfour") == "one\ntwo\\rthree\tfour")
    }

    @Test func nulDELAndC1ControlsAreVisible() {
        #expect(UntrustedText.escaped("a\u{00}b\u{7F}c\u{9B}d\u{85}") == "a\\u{00}b\\u{7F}c\\u{9B}d\\u{85}")
    }

    @Test func bidiOverridesIsolatesAndMarksAreVisible() {
        // "Trojan Source": a right-to-left override makes `admin` read differently from what it is.
        let text = "user\u{202E}nimda\u{202C} \u{2066}x\u{2069} \u{200F}\u{061C}"
        let escaped = UntrustedText.escaped(text)
        #expect(escaped == "user\\u{202E}nimda\\u{202C} \\u{2066}x\\u{2069} \\u{200F}\\u{61C}")
        for scalar: Unicode.Scalar in ["\u{202A}", "\u{202B}", "\u{202D}", "\u{2067}", "\u{2068}", "\u{200E}", "\u{2028}", "\u{2029}"] {
            #expect(UntrustedText.isControl(scalar), "\(scalar.value)")
        }
    }

    @Test func ordinaryTextIsLeftAsItIs() {
        for text in ["", "plain ASCII", "Grüße, 東京, emoji 🚀, Ελληνικά, עברית", "back\\slash \"quotes\""] {
            #expect(UntrustedText.escaped(text) == text)
            #expect(UntrustedText.terminal(text) == text)
        }
    }

    @Test func invalidUTF8BecomesReplacementCharacters() {
        let bytes: [UInt8] = [0x6F, 0x6B, 0xFF, 0xC3, 0x28, 0xE2, 0x82, 0x1B, 0x5B]
        let text = UntrustedText.decoding(bytes)
        #expect(text.hasPrefix("ok\u{FFFD}"))
        #expect(text.contains("\u{FFFD}("))
        #expect(UntrustedText.escaped(text).hasSuffix("\\u{1B}["))
    }

    @Test func aShortTextIsNotCut() {
        #expect(UntrustedText.bounded("hello", limit: 5) == "hello")
        #expect(UntrustedText.bounded("", limit: 0) == "")
    }

    @Test func aHugeTextIsCutToTheLimitAndSaysSo() {
        let megabyte = String(repeating: "x", count: 1 << 20)
        let bounded = UntrustedText.bounded(megabyte, limit: UntrustedText.hostStringLimit)
        #expect(bounded.utf16.count <= UntrustedText.hostStringLimit)
        #expect(bounded.utf16.count > UntrustedText.hostStringLimit - 40)
        #expect(bounded.hasSuffix("… [cut: 1048576 bytes]"))
        #expect(bounded.hasPrefix("xxxx"))
    }

    @Test func aCutNeverSplitsAScalar() {
        // Each rocket is two UTF-16 units: a cut inside one would leave half a surrogate pair.
        let rockets = String(repeating: "🚀", count: 5000)
        for limit in [31, 32, 33, 100, 3000] {
            let bounded = UntrustedText.bounded(rockets, limit: limit)
            #expect(bounded.utf16.count <= limit, "\(limit)")
            let kept = bounded.prefix { $0 != "…" }
            #expect(kept.allSatisfy { $0 == "🚀" }, "\(limit): only whole rockets before the marker")
            #expect(bounded.hasSuffix("… [cut: 20000 bytes]"), "\(limit)")
        }
    }

    @Test func aLimitSmallerThanTheMarkerStillHoldsIt() {
        let bounded = UntrustedText.bounded(String(repeating: "y", count: 100), limit: 5)
        #expect(bounded.utf16.count <= 5)
    }

    @Test func aMultiByteTextThatFitsInUnitsIsKept() {
        // 1,000 CJK characters: 3,000 UTF-8 bytes, 1,000 UTF-16 units.
        let text = String(repeating: "東", count: 1000)
        #expect(UntrustedText.bounded(text, limit: 1000) == text)
        #expect(UntrustedText.bounded(text, limit: 999) != text)
    }

    @Test func secretsAreRedactedEverywhereTheyOccur() {
        let text = "curl -H 'Authorization: Bearer s3cr3t-token' https://x/?t=s3cr3t-token; webhook=hunter2hunter2"
        let redacted = UntrustedText.redacting(["s3cr3t-token", "hunter2hunter2"], in: text)
        #expect(!redacted.contains("s3cr3t-token"))
        #expect(!redacted.contains("hunter2hunter2"))
        #expect(redacted == "curl -H 'Authorization: Bearer [redacted]' https://x/?t=[redacted]; webhook=[redacted]")
    }

    @Test func tooShortValuesAreNotTreatedAsSecrets() {
        #expect(UntrustedText.redacting(["a", "", "abc"], in: "a cat sat") == "a cat sat")
    }

    @Test func escapingIsTotalOnEveryScalarRange() {
        // No scalar, whatever it is, survives escaping as a control.
        var all = String.UnicodeScalarView()
        for value in UInt32(0)...0x3000 {
            if let scalar = Unicode.Scalar(value) { all.append(scalar) }
        }
        let escaped = UntrustedText.escaped(String(all))
        #expect(!escaped.unicodeScalars.contains { UntrustedText.isControl($0) })
        #expect(!UntrustedText.terminal(String(all)).unicodeScalars.contains { UntrustedText.isControl($0) && $0 != "\n" && $0 != "\t" })
    }
}

/// What the page, the API and notifications show of a status: the controller's secrets never.
@Suite("Status redaction")
struct StatusRedactionTests {
    @Test func aSecretInAHostsErrorTheMessageAndTheErrorsIsRedacted() {
        let secret = "whsec-0123456789"
        let status = EnvironmentStatus(
            environment: "production", desired: String(repeating: "a", count: 40), result: .halted,
            message: "web-01 failed: gunicorn --token \(secret)", time: "2026-12-06T00:00:00Z", active: .a, pins: [],
            hosts: ["web-01": .init(serving: .a, slots: [:], healthy: false, error: "exited 1: API_KEY=\(secret)")],
            errors: ["web-01: \(secret)"])
        let redacted = status.redacting([secret])
        #expect(redacted.message == "web-01 failed: gunicorn --token [redacted]")
        #expect(redacted.hosts["web-01"]?.error == "exited 1: API_KEY=[redacted]")
        #expect(redacted.errors == ["web-01: [redacted]"])
        #expect(status.redacting([]) == status)
    }
}
