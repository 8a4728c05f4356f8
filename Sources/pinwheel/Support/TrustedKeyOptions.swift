import ArgumentParser
import PinwheelReleases

/// The keys that `watch`, `validate --rev` and `history` check commit signatures against: files on this machine,
/// never taken from the config repository.
struct TrustedKeyOptions: ParsableArguments {
    @Option(name: .customLong("allowed-signers"),
            help: ArgumentHelp("An SSH allowed-signers file (`alice@example.com ssh-ed25519 AAAA…` lines) whose keys are trusted to sign commits.",
                               valueName: "path"))
    var allowedSigners: String?

    @Option(name: .customLong("openpgp-keys"),
            help: ArgumentHelp("A file of OpenPGP public keys (`gpg --export --armor KEY-ID`; GitHub's web-flow key for merges made on github.com) trusted to sign commits.",
                               valueName: "path"))
    var openPGPKeys: String?

    func validate() throws {
        if let allowedSigners, let problem = SignatureVerifier.problem(with: allowedSigners) {
            throw ExitError.usage("--allowed-signers: \(problem)")
        }
        if let openPGPKeys, let problem = SignatureVerifier.openPGPProblem(with: openPGPKeys) {
            throw ExitError.usage("--openpgp-keys: \(problem)")
        }
    }

    /// The keys, by absolute paths (the controller may change its working directory's meaning for relative ones).
    var trusted: TrustedKeys {
        TrustedKeys(allowedSigners: allowedSigners.map(Watch.absolute), openPGPKeys: openPGPKeys.map(Watch.absolute))
    }
}
