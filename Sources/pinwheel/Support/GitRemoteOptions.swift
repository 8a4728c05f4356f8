import ArgumentParser
import Foundation
import PinwheelGit

/// How `watch` reaches the repository it follows: its URL (or path) and the credentials for the remote.
struct GitRemoteOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The config repository: a URL (ssh://, https://, file://) or a path.", valueName: "url-or-path"))
    var repo: String

    @Option(name: .customLong("git-identity"), help: ArgumentHelp("Private key (ed25519) for an ssh:// repository; the SSH agent otherwise.", valueName: "path"))
    var gitIdentity: String?

    @Option(name: .customLong("git-known-hosts"), help: ArgumentHelp("Known-hosts file for an ssh:// repository (default ~/.ssh/known_hosts).", valueName: "path"))
    var gitKnownHosts: String?

    @Option(name: .customLong("git-token-env"), help: ArgumentHelp("Environment variable holding a token for an https:// repository.", valueName: "name"))
    var gitTokenEnvironment: String?

    /// A token for https://, a key or the SSH agent for ssh://, nothing for a path or file://.
    var credentials: RemoteOptions.Credentials {
        if let gitTokenEnvironment { return .token(environmentVariable: gitTokenEnvironment) }
        let user = repo.hasPrefix("ssh://") ? (URL(string: repo)?.user ?? "git") : "git"
        if let gitIdentity { return .sshKey(user: user, privateKey: NSString(string: gitIdentity).expandingTildeInPath, publicKey: nil, passphrase: nil) }
        return repo.hasPrefix("ssh://") ? .sshAgent(user: user) : .none
    }
}
