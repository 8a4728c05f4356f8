import CGit2
import Foundation

/// Who made a commit and when, with the time zone offset git records.
public struct Signature: Hashable, Sendable {
    public var name: String
    public var email: String
    /// The instant (git stores whole seconds).
    public var date: Date
    /// Offset from UTC in minutes, as recorded in the commit (e.g. +120 for CEST).
    public var timeZoneOffsetMinutes: Int

    public init(name: String, email: String, date: Date = Date(), timeZoneOffsetMinutes: Int = 0) {
        self.name = name
        self.email = email
        self.date = date
        self.timeZoneOffsetMinutes = timeZoneOffsetMinutes
    }

    init(_ sig: UnsafePointer<git_signature>) {
        name = sig.pointee.name.map { String(cString: $0) } ?? ""
        email = sig.pointee.email.map { String(cString: $0) } ?? ""
        date = Date(timeIntervalSince1970: TimeInterval(sig.pointee.when.time))
        timeZoneOffsetMinutes = Int(sig.pointee.when.offset)
    }

    /// Calls `body` with a libgit2 signature that lives only during the call.
    func withGitSignature<T>(_ body: (UnsafePointer<git_signature>) throws(GitError) -> T) throws(GitError) -> T {
        var raw: UnsafeMutablePointer<git_signature>?
        try check(git_signature_new(&raw, name, email, git_time_t(date.timeIntervalSince1970.rounded(.down)),
                                    Int32(timeZoneOffsetMinutes)),
                  "invalid signature \(name) <\(email)>")
        defer { git_signature_free(raw) }
        return try body(raw!)
    }
}
