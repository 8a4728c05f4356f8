import Logging
import PinwheelCore

extension Logger {
    /// Logs a line that marks a step of the controller's work, with its ``ControllerEvent`` code as the `event` field:
    /// what log queries, alerts and tests match on instead of the message's wording.
    func log(_ event: ControllerEvent, _ level: Logger.Level = .info, _ message: @autoclosure () -> Logger.Message,
             _ metadata: Logger.Metadata = [:], file: String = #fileID, function: String = #function, line: UInt = #line) {
        var metadata = metadata
        assert(metadata["event"] == nil, "`event` is the line's ControllerEvent code; name this field otherwise")
        metadata["event"] = "\(event.rawValue)"
        log(level: level, message(), metadata: metadata, file: file, function: function, line: line)
    }
}
