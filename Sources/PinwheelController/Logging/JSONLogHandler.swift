import Foundation
import Logging
import PinwheelCore

/// `watch --log-format json`: one JSON object per log event and line, for log shippers that read JSON
/// (`{"time":"…","level":"info","msg":"status committed","env":"production",…}`).
///
/// `time`, `level` and `msg` come first; the event's metadata follows as string fields, keys sorted. A metadata key
/// that would overwrite one of those three is written as `meta.<key>`.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public let label: String
    private let write: @Sendable (String) -> Void

    /// - Parameter write: where each line goes (with its newline); standard error by default.
    public init(label: String, write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        write(Self.line(time: Date(), level: event.level, message: event.message.description,
                        metadata: merged.mapValues(\.description)) + "\n")
    }

    /// One event as a JSON object on one line (no newline at the end).
    public static func line(time: Date, level: Logger.Level, message: String, metadata: [String: String]) -> String {
        var fields = [("time", Timestamp.precise(time)), ("level", level.rawValue), ("msg", message)]
        for key in metadata.keys.sorted() {
            let name = ["time", "level", "msg"].contains(key) ? "meta.\(key)" : key
            fields.append((name, metadata[key]!))
        }
        return "{" + fields.map { "\(quote($0.0)):\(quote($0.1))" }.joined(separator: ",") + "}"
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped (C0, DEL, C1, the line separators
    /// and the bidi formatting characters, ``UntrustedText/isControl(_:)``), everything else as it is (UTF-8);
    /// bounded to ``UntrustedText/logFieldLimit``.
    static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in UntrustedText.bounded(text, limit: UntrustedText.logFieldLimit).unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where UntrustedText.isControl(scalar):
                result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
