import Foundation
import Logging

/// How the controller's polls of the config repository have been going: when the last one succeeded, how many have
/// failed in a row since, and the last error — what `/healthz` reports and what the loop backs off by
/// (``LoopPacing/delay(failedPolls:)``). A failure is logged, the same error again only on the first poll that fails.
struct PollRecord: Sendable {
    private(set) var lastPoll: Date?
    private(set) var failures = 0
    private(set) var lastError: String?

    mutating func failed(_ message: String, logger: Logger) {
        failures += 1
        if lastError != message || failures == 1 {
            logger.log(.repositoryUnreachable, .error, "\(message)", ["attempt": "\(failures)"])
        }
        lastError = message
    }

    mutating func succeeded(logger: Logger, at time: Date = Date()) {
        if failures > 0 {
            logger.log(.repositoryReachable, .info, "the config repository is reachable again")
        }
        failures = 0
        lastError = nil
        lastPoll = time
    }
}
