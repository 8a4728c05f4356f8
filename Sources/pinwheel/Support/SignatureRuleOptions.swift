import ArgumentParser
import PinwheelReleases

/// The operator's signature rule for `watch` and `apply`: a rule from the command line, so no commit can switch it
/// off, and it covers what a policy cannot (an environment a commit adds, a policy without `verify`).
struct SignatureRuleOptions: ParsableArguments {
    @Flag(name: .customLong("require-signatures"),
          help: ArgumentHelp("Require every commit, in every environment, to be signed by a key of --allowed-signers or --openpgp-keys, whatever the repository's policies say.",
                             discussion: "Policies can only add strictness to this rule. Without it, a policy's `verify: {signatures: required}` guards its environment, and a host shared with such an environment gets its rule too."))
    var requireSignatures = false

    /// `keys` with this rule.
    func applied(to keys: TrustedKeys) -> TrustedKeys {
        var keys = keys
        keys.requireSignatures = requireSignatures
        return keys
    }
}
