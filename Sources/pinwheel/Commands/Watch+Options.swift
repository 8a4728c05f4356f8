import PinwheelGit

extension Watch {
    /// The parts of the shared option groups `watch` reads by name.
    var repo: String { remote.repo }
    var gitKnownHosts: String? { remote.gitKnownHosts }
    var credentials: RemoteOptions.Credentials { remote.credentials }
    var statusBranch: String { statusBranchOptions.statusBranch }
    var gitTokenEnvironment: String? { remote.gitTokenEnvironment }

    /// Where the webhooks' secret is read, if one is named.
    var webhookSecretSource: SecretSource? {
        get throws(ExitError) {
            try SecretSource.from("the webhook secret configured on the git host",
                                  environment: ("--webhook-secret-env", webhookSecretEnvironment),
                                  file: ("--webhook-secret-file", webhookSecretFile))
        }
    }

    /// Where the token guarding the status page, the API and /metrics is read, if one is named.
    var accessTokenSource: SecretSource? {
        get throws(ExitError) {
            try SecretSource.from("the access token", environment: ("--access-token-env", accessTokenEnvironment),
                                  file: ("--access-token-file", accessTokenFile))
        }
    }
}
