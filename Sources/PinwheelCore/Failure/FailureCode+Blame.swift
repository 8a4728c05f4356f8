extension FailureCode {
    /// Whose fault a failure is: evidence against the release counts towards a rollout's `maxFailures` and can halt
    /// it; a host's own trouble only takes that host out of the rollout (it is skipped and reported, the others go
    /// on, and it gets the release when it is back).
    public enum Blame: Sendable, Hashable {
        /// The release did it: its pins do not install, its programs cannot start with its settings (a missing
        /// `envFile`, a config supervisord refuses), its new slot fails its health check, its hook fails.
        case release
        /// The host did: it is unreachable or lost mid-step, its own nginx is broken, its disk is full, its deploy root
        /// is unsafe, its lock is held, another controller owns it now.
        case host
    }

    /// How each code is classified. Where a code could be either (a missing `envFile` the commit names, supervisord
    /// refusing the programs' new config), or this build does not know it, it counts against the release: halting is
    /// the safe mistake.
    public var blame: Blame {
        switch self {
        case .install, .envFile, .supervisor, .health, .hook, .unknown:
            return .release
        case .diskFull, .exec, .notPrepared, .notReady, .notServed, .nginxTest, .nginxReload, .nginxVerify,
             .internal, .locked, .badRequest, .protocolMismatch, .unsafeRoot, .fenced, .unreachable, .hostKeyMismatch,
             .authentication, .timeout, .badReply, .untrustedLocalFile, .localHostRefused, .unsafeRuntimeFolder:
            return .host
        }
    }
}
