import Foundation
import PinwheelCore
import PinwheelProcess

/// The controller's own SSH key (`watch --status-signing-key`), which signs every status commit it writes, in git's
/// SSH signature format (`ssh-keygen -Y sign -n git`: what `git log --show-signature` with `gpg.format=ssh` checks).
/// Only statuses signed by it are believed after a restart (``StatusVerifier``): whoever may push the status branch
/// cannot make the controller remember an apply that never happened or forget a quarantine.
///
/// The key's path is never logged, only its file name (``name``).
public struct StatusSigner: Sendable {
    /// The private key file.
    public let key: String
    let keygen: String
    let timeout: Duration

    public init(key: String, keygen: String = "/usr/bin/ssh-keygen", timeout: Duration = .seconds(20)) {
        self.key = key
        self.keygen = keygen
        self.timeout = timeout
    }

    /// The key's file name, what messages say of it.
    public var name: String { (key as NSString).lastPathComponent }

    /// The public key beside it (`KEY.pub`), which verifies what it signs.
    public var publicKey: String { key + ".pub" }

    /// The armored SSH signature of `payload` (a commit object's text) in the namespace `git`.
    ///
    /// - Throws: ``OperationError/Code/failed`` when ssh-keygen cannot sign (a key with a passphrase, a file it
    ///   refuses), saying what to do.
    public func sign(_ payload: String) async throws -> String {
        let output: ProcessOutput
        do {
            output = try await ProcessRunner.run(keygen, ["-Y", "sign", "-f", key, "-n", "git"], input: payload, timeout: timeout)
        } catch {
            throw OperationError(.failed, "cannot run \(keygen) to sign a status with \(name): \(error)",
                                 hint: "install openssh-client (scripts/setup does)")
        }
        guard output.status == 0, output.standardOutput.hasPrefix("-----BEGIN SSH SIGNATURE-----") else {
            let reason = output.standardError.split(whereSeparator: \.isNewline).last.map(String.init) ?? "exit status \(output.status)"
            throw OperationError(.failed, "cannot sign a status with \(name): \(UntrustedText.escaped(UntrustedText.bounded(reason, limit: 300)))",
                                 hint: "give --status-signing-key a private SSH key without a passphrase, readable by this user only")
        }
        return output.standardOutput
    }

    /// What is wrong with `path` as a status signing key, or nil: it must be a readable file no one else may read, with
    /// its public key beside it unless `trusting` names the public keys.
    public static func problem(with path: String, trusting publicKeys: [String] = []) -> String? {
        let name = (path as NSString).lastPathComponent
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            return "\(name) is not a file: give the controller's private SSH key (`ssh-keygen -t ed25519 -N '' -f FILE`)"
        }
        guard FileManager.default.isReadableFile(atPath: path) else { return "\(name) cannot be read by this user" }
        if let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int, mode & 0o077 != 0 {
            return "\(name) may be read by other users (mode \(String(mode, radix: 8))): `chmod 600` it"
        }
        if publicKeys.isEmpty, !FileManager.default.isReadableFile(atPath: path + ".pub") {
            return "\(name).pub is missing: put the public key beside it, or name it with --trusted-status-key"
        }
        return nil
    }
}
