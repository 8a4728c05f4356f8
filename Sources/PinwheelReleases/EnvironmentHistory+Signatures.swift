import PinwheelCore
import PinwheelGit

extension EnvironmentHistory {
    /// Fills in each entry's signature state, checked by `verifier` (against its allowed signers, when it has some).
    /// A commit rewritten away that this repository no longer has keeps no signature state: there is nothing to check.
    public mutating func checkSignatures(with verifier: SignatureVerifier, in repository: Repository) async throws {
        for index in entries.indices {
            guard let id = ObjectID(hex: entries[index].commit), repository.contains(id) else { continue }
            entries[index].signature = SignatureReport(try await verifier.state(of: id, in: repository))
        }
    }

    /// Marks each status as verified or not: signed by a key of `verifier` (the controller's own), or not, so an
    /// auditor sees which records a controller would believe.
    public mutating func checkStatusSignatures(with verifier: StatusVerifier, in repository: Repository) async {
        for index in entries.indices {
            for status in entries[index].applied.indices {
                guard let id = ObjectID(hex: entries[index].applied[status].statusCommit) else { continue }
                let state = await verifier.state(of: id, in: repository)
                entries[index].applied[status].statusSignature = state.word
                entries[index].applied[status].statusSignatureDetail = state.description
                entries[index].applied[status].verified = state.isVerified
            }
        }
    }
}
