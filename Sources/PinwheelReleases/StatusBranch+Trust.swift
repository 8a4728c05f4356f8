import PinwheelCore
import PinwheelGit

extension StatusBranch {
    /// An environment's status as the controller may believe it: the newest status its own key signed.
    public struct TrustedRead: Sendable {
        /// The newest verified status, its quarantine list the union of every status read (a status can add a
        /// quarantine, never lift one); nil when none verifies (then only the quarantines are kept, on a status the
        /// caller treats as "nothing applied").
        public var status: EnvironmentStatus?
        /// The commit that wrote it.
        public var commit: ObjectID?
        /// The newer statuses not believed, newest first, with their signature states.
        public var disbelieved: [(commit: ObjectID, signature: StatusSignature)]
        /// Every quarantined commit any status read names, oldest first.
        public var quarantined: [String]

        /// The status to act on: the verified one, or, when none verifies but some status names quarantined commits,
        /// one that applied nothing and carries them (so they stay quarantined); nil when there is nothing to keep.
        public func believed(_ environment: String, time: String) -> EnvironmentStatus? {
            if let status { return status }
            guard !quarantined.isEmpty else { return nil }
            return EnvironmentStatus(environment: environment, desired: "", result: .refused,
                                     message: "no status signed by the controller's key", time: time,
                                     active: nil, pins: [], hosts: [:], quarantined: quarantined)
        }

        /// What to tell the operator when the newest status is not believed; nil when it is (or there is none).
        public var warning: String? {
            guard let newest = disbelieved.first else { return nil }
            let fallback = commit.map { "believed instead: the status of \($0.short), the newest the controller signed, "
                + "and every commit after its last applied one is checked again" }
                ?? "no status is signed by the controller's key, so every commit is checked as on a first run"
            return "the newest status (\(newest.commit.short)) is not the controller's (\(newest.signature.description)): "
                + "\(fallback); the \(quarantined.count) quarantined commit(s) of every status are kept"
        }
    }

    /// Reads `environment`'s statuses from `tip` backwards (at most `limit`) and believes the newest one `verifier`
    /// says the controller signed, keeping every quarantine of every status read: the safe choice when whoever may
    /// push the status branch has written a status of their own.
    public static func trustedStatus(of environment: String, at tip: ObjectID, in repository: Repository,
                                     verifier: StatusVerifier, limit: Int = 200) async throws -> TrustedRead {
        let path = EnvironmentStatus.path(of: environment)
        var read = TrustedRead(status: nil, commit: nil, disbelieved: [], quarantined: [])
        var quarantines: [[String]] = []
        for commit in try repository.history(of: path, from: tip, limit: limit) {
            guard let data = try repository.readFile(path, at: commit.id),
                  let status = try? EnvironmentStatus.parse(String(decoding: data, as: UTF8.self)) else { continue }
            quarantines.append(status.quarantined)
            guard read.status == nil else { continue }
            let signature = await verifier.state(of: commit.id, in: repository)
            if signature.isVerified {
                read.status = status
                read.commit = commit.id
            } else {
                read.disbelieved.append((commit.id, signature))
            }
        }
        for list in quarantines.reversed() {
            for commit in list where !read.quarantined.contains(commit) { read.quarantined.append(commit) }
        }
        read.status?.quarantined = read.quarantined
        return read
    }
}
