import Foundation
import PinwheelCore

/// Writes to standard error, where diagnostics and progress go so that standard output stays parseable.
enum StandardError {
    /// Writes `text` and a line break. Its text often quotes a host or a commit, so control characters other than
    /// line breaks are shown, not obeyed (``UntrustedText/terminal(_:)``).
    static func write(_ text: String) {
        FileHandle.standardError.write(Data((UntrustedText.terminal(text) + "\n").utf8))
    }
}

extension Terminal {
    /// What the commands print on standard output: text that quotes hosts and commits, with control characters
    /// other than line breaks shown, not obeyed (``UntrustedText/terminal(_:)``). JSON output needs none of this:
    /// its encoder escapes control characters.
    static func print(_ text: String) {
        Swift.print(UntrustedText.terminal(text))
    }
}

enum JSON {
    /// Pretty, key-sorted JSON, so output is stable across runs and diffs well.
    static func string<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
