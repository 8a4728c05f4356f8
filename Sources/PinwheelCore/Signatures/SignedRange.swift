import Foundation

/// Whether the commits between the last applied commit and a new tip may be applied under
/// `verify: {signatures: required}`. Pure: the caller reads the commits and checks their signatures.
///
/// The rule: every commit in the range (reachable from the tip, not from the last applied commit) is signed by a
/// trusted key, or is *accepted* by a commit of the range that is itself signed by a trusted key and carries the
/// trailer `Pinwheel-Accept: <full commit id>` naming it. A signed revert on top of an unsigned commit accepts
/// nothing by itself: the unsigned commit stays in the range (the last applied commit does not move while the range
/// is refused), so the range stays refused until a trusted signer accepts it by name.
/// With no applied commit yet, the range is the tip alone.
public enum SignedRange {
    /// The trailer that accepts an unsigned or untrusted commit.
    public static let acceptTrailer = "Pinwheel-Accept"
    /// The trailer of a marker commit that accepts a rewritten history: it names the last applied commit, which the
    /// new tip does not descend from.
    public static let acceptRewriteTrailer = "Pinwheel-Accept-Rewrite"

    /// One commit of the range, as the caller read it.
    public struct Commit: Sendable, Hashable {
        public var id: String
        public var author: String
        public var summary: String
        public var signature: SignatureState
        /// The values of its `Pinwheel-Accept` trailers.
        public var accepts: [String]

        public init(id: String, author: String, summary: String, signature: SignatureState, accepts: [String] = []) {
            self.id = id
            self.author = author
            self.summary = summary
            self.signature = signature
            self.accepts = accepts
        }
    }

    public enum Verdict: Sendable, Hashable {
        /// Every commit is trusted or accepted; `accepted` lists the ids accepted by a trailer.
        case clean(accepted: [String])
        /// The first offending commits (oldest first), each with why.
        case refused([Offence])
    }

    public struct Offence: Sendable, Hashable {
        public var commit: Commit
        public var reason: String
    }

    /// The verdict on `commits`, given newest first (as a history walk lists them); offences are listed oldest first.
    public static func verdict(_ commits: [Commit]) -> Verdict {
        let accepted = Set(commits.filter(\.signature.isTrusted).flatMap { $0.accepts.map { $0.lowercased() } })
        var offences: [Offence] = []
        var acceptedIDs: [String] = []
        for commit in commits.reversed() where !commit.signature.isTrusted {
            if accepted.contains(commit.id.lowercased()) {
                acceptedIDs.append(commit.id)
            } else {
                offences.append(Offence(commit: commit, reason: commit.signature.description))
            }
        }
        return offences.isEmpty ? .clean(accepted: acceptedIDs) : .refused(offences)
    }

    /// The status message of a refusal: the first offender named in full, how many more, and what to do.
    public static func message(_ offences: [Offence], tip: String, applied: String?) -> String {
        guard let first = offences.first else { return "" }
        var text = "unverified commit \(first.commit.id) by \(first.commit.author) (\"\(first.commit.summary)\"): \(first.reason)"
        if offences.count > 1 {
            text += "; \(offences.count - 1) more unverified commit\(offences.count == 2 ? "" : "s")"
        }
        text += applied.map { "; range \($0)..\(tip), from the last applied commit" }
            ?? "; nothing was applied before, so the tip \(tip) alone is checked"
        text += "; nothing applied. Signatures are required: a commit signed by a trusted key with the trailer "
            + "\(acceptTrailer): \(first.commit.id) accepts it"
        return text
    }

    /// The ids of `Pinwheel-Accept` trailers among `trailers`.
    public static func accepts(in trailers: [(key: String, value: String)]) -> [String] {
        values(of: acceptTrailer, in: trailers)
    }

    /// The values of the trailers named `key` (compared ignoring case), trimmed.
    public static func values(of key: String, in trailers: [(key: String, value: String)]) -> [String] {
        trailers.filter { $0.key.caseInsensitiveCompare(key) == .orderedSame }
            .map { $0.value.trimmingCharacters(in: .whitespaces) }
    }
}
