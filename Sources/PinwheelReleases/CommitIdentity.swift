import Foundation
import PinwheelGit

/// Who commits a release or a rollback, as git itself would decide it.
public enum CommitIdentity {
    /// The author from GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL, else git config's user.name/user.email; the committer
    /// likewise from GIT_COMMITTER_NAME/GIT_COMMITTER_EMAIL, else the author. Dated now, in the local time zone.
    ///
    /// - Throws: ``OperationError/Code/usage`` when no name or email is set anywhere.
    public static func resolve(
        _ repository: Repository,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        date: Date = Date()
    ) throws(OperationError) -> (author: Signature, committer: Signature) {
        let configured = repository.defaultSignature()
        func nonEmpty(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        let offset = TimeZone.current.secondsFromGMT(for: date) / 60
        guard let name = nonEmpty("GIT_AUTHOR_NAME") ?? configured?.name,
              let email = nonEmpty("GIT_AUTHOR_EMAIL") ?? configured?.email else {
            throw OperationError(.usage, "who is committing? set git config user.name and user.email "
                                 + "(or GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL)")
        }
        let author = Signature(name: name, email: email, date: date, timeZoneOffsetMinutes: offset)
        let committer = Signature(name: nonEmpty("GIT_COMMITTER_NAME") ?? name, email: nonEmpty("GIT_COMMITTER_EMAIL") ?? email,
                                  date: date, timeZoneOffsetMinutes: offset)
        return (author, committer)
    }
}
