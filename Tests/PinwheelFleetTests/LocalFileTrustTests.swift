import Foundation
import PinwheelCore
import PinwheelFleet
import Testing

/// Which private keys and known-hosts files on the controller a config may name.
@Suite("Local file trust")
struct LocalFileTrustTests {
    final class Folders {
        let root: String

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("pinwheel-trust-\(UUID().uuidString)").path
            for folder in ["allowed/keys", "elsewhere"] {
                try FileManager.default.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
            }
            for file in ["allowed/keys/id_ed25519", "elsewhere/git_key"] {
                _ = FileManager.default.createFile(atPath: "\(root)/\(file)", contents: Data("key".utf8))
            }
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }
    }

    @Test func aKeyInsideAnAllowedFolderIsUsedByItsRealPath() throws {
        let folders = try Folders()
        let trust = LocalFileTrust(folders: ["\(folders.root)/allowed"])
        let real = try trust.identity("\(folders.root)/allowed/keys/id_ed25519", host: "web-01")
        #expect(real == LocalFileTrust.realPath("\(folders.root)/allowed/keys/id_ed25519"))
        #expect(try trust.knownHosts("\(folders.root)/allowed/keys/../keys/id_ed25519", host: "web-01") == real)
    }

    /// A host with `address: local` has a code of its own, not a key's: what was refused is the host, not a file.
    @Test func aLocalHostIsRefusedWithItsOwnCodeUnlessTheOperatorAllowsIt() throws {
        let error = #expect(throws: FleetError.self) { try LocalFileTrust.standard.localHost("here") }
        #expect(error?.code == .localHostRefused && error?.failure.code == .localHostRefused)
        #expect(error?.failure.code.rawValue == "localHostRefused")
        #expect(error?.message.contains("host here has `address: local`") == true && error?.message.contains("--allow-local-hosts") == true)
        #expect(throws: Never.self) { try LocalFileTrust.allowing([], localHosts: true).localHost("here") }
    }

    @Test func aKeyOutsideIsRefusedNamingTheHostThePathAndTheFlag() throws {
        let folders = try Folders()
        let trust = LocalFileTrust(folders: ["\(folders.root)/allowed"])
        let path = "\(folders.root)/elsewhere/git_key"
        let error = #expect(throws: FleetError.self) { try trust.identity(path, host: "web-01") }
        #expect(error?.code == .untrustedLocalFile)
        #expect(error?.message == "identity \(path) of host web-01 is outside the allowed folders (\(folders.root)/allowed); allow it with --allow-identity-dir")
        #expect(throws: FleetError.self) { try trust.knownHosts(path, host: "web-02") }
        // The allowed folder's name as a prefix of another folder's is not inside it.
        _ = FileManager.default.createFile(atPath: "\(folders.root)/allowed-not/x", contents: nil)
        #expect(trust.allowedPath("\(folders.root)/allowed-not/x") == nil)
        #expect(trust.allowedPath("/etc/shadow") == nil)
    }

    @Test func dotDotCannotEscape() throws {
        let folders = try Folders()
        let trust = LocalFileTrust(folders: ["\(folders.root)/allowed"])
        #expect(trust.allowedPath("\(folders.root)/allowed/../elsewhere/git_key") == nil)
        #expect(trust.allowedPath("\(folders.root)/allowed/keys/../../elsewhere/git_key") == nil)
        #expect(trust.allowedPath("\(folders.root)/allowed/../allowed/keys/id_ed25519") != nil)
        // Also for a file that does not exist (yet).
        #expect(trust.allowedPath("\(folders.root)/allowed/nothing/../../elsewhere/none") == nil)
    }

    @Test func aLinkCannotEscape() throws {
        let folders = try Folders()
        let trust = LocalFileTrust(folders: ["\(folders.root)/allowed"])
        // A link inside the allowed folder to a key outside it.
        try FileManager.default.createSymbolicLink(atPath: "\(folders.root)/allowed/keys/linked", withDestinationPath: "\(folders.root)/elsewhere/git_key")
        #expect(trust.allowedPath("\(folders.root)/allowed/keys/linked") == nil)
        // A folder link inside the allowed folder.
        try FileManager.default.createSymbolicLink(atPath: "\(folders.root)/allowed/out", withDestinationPath: "\(folders.root)/elsewhere")
        #expect(trust.allowedPath("\(folders.root)/allowed/out/git_key") == nil)
        // An allowed folder reached through a link is compared by its real path: still allowed.
        try FileManager.default.createSymbolicLink(atPath: "\(folders.root)/via", withDestinationPath: "\(folders.root)/allowed")
        let throughLink = LocalFileTrust(folders: ["\(folders.root)/via"])
        #expect(throughLink.allowedPath("\(folders.root)/allowed/keys/id_ed25519") != nil)
    }

    @Test func tildeIsTheHomeOfTheUserRunningPinwheel() throws {
        let home = LocalFileTrust.realPath("~")
        #expect(home == LocalFileTrust.realPath(NSString(string: "~").expandingTildeInPath) || home.hasPrefix("/"))
        #expect(LocalFileTrust.standard.folders == ["~/.ssh"])
        #expect(LocalFileTrust.allowing([]) == .standard)
        #expect(LocalFileTrust.standard.allowedPath("~/.ssh/id_ed25519") == LocalFileTrust.realPath("~/.ssh/id_ed25519"))
        #expect(LocalFileTrust.standard.allowedPath("~/.ssh/../.bashrc") == nil)
        #expect(LocalFileTrust.standard.allowedPath("~/id_ed25519") == nil)
        #expect(LocalFileTrust(folders: ["~"]).allowedPath("~/.ssh/id_ed25519") != nil)
    }
}
