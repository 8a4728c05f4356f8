import Logging
import PinwheelCore
import PinwheelReleases

extension Controller {
    /// The verifier of the statuses read back after a restart: the configuration's status public keys; nil when it
    /// has none (statuses trusted unsigned). Keys that cannot be read make a verifier that trusts no key, so nothing
    /// is believed rather than everything.
    static func statusVerifier(_ configuration: ControllerConfiguration, logger: Logger) -> StatusVerifier? {
        guard configuration.verifiesStatuses else { return nil }
        do {
            return try StatusVerifier(publicKeys: configuration.statusPublicKeys)
        } catch {
            logger.error("cannot read the trusted status keys: no status is believed", metadata: ["error": "\(error)"])
            return try? StatusVerifier(publicKeys: [])
        }
    }

    /// Says at startup whom the status branch is trusted from.
    func logStatusTrust() {
        if let key = configuration.statusSigningKey {
            logger.log(.statusTrust, .info, "statuses are signed with the controller's key; only statuses it signed are believed",
                       ["trust": "signed", "key": "\(StatusSigner(key: key).name)", "trusted": "\(configuration.statusPublicKeys.count)"])
        } else if configuration.verifiesStatuses {
            logger.log(.statusTrust, .warning, "statuses are committed unsigned, but only those signed by a trusted status key are believed",
                       ["trust": "verified", "trusted": "\(configuration.trustedStatusKeys.count)"])
        } else {
            logger.log(.statusTrust, .warning, """
                the status branch is trusted unsigned: whoever can push it can change what the controller believes was \
                applied or quarantined after a restart; give watch --status-signing-key
                """, ["trust": "unsigned"])
        }
    }
}
