import ArgumentParser
import Foundation
import PinwheelReleases

/// The controller's own status key (`watch`, `apply`) and the public keys whose statuses are believed (`watch`,
/// `apply`, `history`): files on this machine, never from the config repository.
struct StatusKeyOptions: ParsableArguments {
    @Option(name: .customLong("status-signing-key"),
            help: ArgumentHelp("The controller's private SSH key: every status commit is signed with it, and only statuses it signed are believed after a restart.",
                               discussion: "Its public key is read from the same path with `.pub`. Without it (nor --trusted-status-key) the status branch is trusted unsigned: whoever can push it can change what is remembered as applied or quarantined.",
                               valueName: "path"))
    var statusSigningKey: String?

    @Option(name: .customLong("trusted-status-key"),
            help: ArgumentHelp("A public SSH key (a .pub file) whose signed statuses are believed too: a key being rotated out, or the controller's key where only statuses are read (history). Repeatable.",
                               valueName: "path"))
    var trustedStatusKeys: [String] = []

    func validate() throws {
        if let statusSigningKey, let problem = StatusSigner.problem(with: statusSigningKey, trusting: trustedStatusKeys) {
            throw ExitError.usage("--status-signing-key: \(problem)")
        }
        for key in trustedStatusKeys {
            do {
                _ = try StatusVerifier(publicKeys: [key])
            } catch {
                throw ExitError.usage("--trusted-status-key: \(error)")
            }
        }
    }

    var signingKey: String? { statusSigningKey.map(Watch.absolute) }
    var trusted: [String] { trustedStatusKeys.map(Watch.absolute) }

    /// The public keys a status must be signed by to be believed: the signing key's `.pub` and the trusted ones.
    var publicKeys: [String] {
        (signingKey.map { [$0 + ".pub"] } ?? []).filter { FileManager.default.fileExists(atPath: $0) } + trusted
    }

    /// Whether statuses are checked at all.
    var verifies: Bool { statusSigningKey != nil || !trustedStatusKeys.isEmpty }
}
