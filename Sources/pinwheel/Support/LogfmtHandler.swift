import Foundation
import Logging
import PinwheelCore

/// One line per event in logfmt (`time=… level=info msg="…" env=production host=web-01 commit=3f2a1c9`), to
/// standard error: easy to read, and easy for log shippers to parse.
struct LogfmtHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        var text = "time=\(Self.timestamp()) level=\(event.level) msg=\(Self.quote(event.message.description))"
        for key in merged.keys.sorted() {
            text += " \(key)=\(Self.quote(merged[key]!.description))"
        }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    private static func timestamp() -> String {
        Timestamp.precise(Date())
    }

    /// A value as logfmt writes it: bare when it is plain printable ASCII, else quoted with `\\` and `"` escaped and
    /// every control character visible (``UntrustedText/visible(_:)``), bounded to ``UntrustedText/logFieldLimit``:
    /// text from a host or a commit can neither start a line of its own nor drive the terminal that shows the log.
    static func quote(_ value: String) -> String {
        let value = UntrustedText.bounded(value, limit: UntrustedText.logFieldLimit)
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "\"" && $0 != "=" && $0 != "\\" && $0.value < 0x7F }
        if plain { return value }
        var escaped = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case _ where UntrustedText.isControl(scalar): escaped += UntrustedText.visible(scalar)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return "\"\(escaped)\""
    }
}
