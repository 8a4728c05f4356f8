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
}
