import Foundation
import PinwheelCore
import PinwheelTestSupport
import Testing
@testable import PinwheelFleet

/// How Pinwheel calls ssh: a configuration of its own, nothing forwarded, and control sockets named by everything
/// that decides whom a connection trusts. Pure argument building, and the runtime folder's checks on real folders.
@Suite("SSH arguments")
struct SSHArgumentTests {
    let folder: TemporaryFolder

    init() throws {
        folder = try TemporaryFolder("ssh")
    }

    func host(identity: String? = nil, user: String = "deploy", port: Int = 22) -> FleetHost {
        FleetHost(name: "web-01", address: "10.0.0.5", settings: HostSettings(
            user: user, port: port, identity: identity, knownHosts: "known_hosts",
            nginx: NginxSettings(upstream: "/etc/nginx/pinwheel/hello.conf")))
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = folder.path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func options(_ arguments: [String]) -> [String] {
        arguments.indices.filter { arguments[$0] == "-o" }.map { arguments[$0 + 1] }
    }

    @Test func sshReadsNoConfigurationFileAndForwardsNothing() throws {
        let known = try write("known", "10.0.0.5 ssh-ed25519 AAAA\n")
        let arguments = SSHTransport(host: host(), knownHostsFile: known, controlDirectory: folder.path).arguments(python: "/usr/bin/python3")
        #expect(Array(arguments.prefix(3)) == ["-F", "none", "-T"], "no ~/.ssh/config, no /etc/ssh/ssh_config")
        let set = Set(options(arguments))
        for option in ["ForwardAgent=no", "ForwardX11=no", "ClearAllForwardings=yes", "PermitLocalCommand=no", "ProxyCommand=none",
                       "ProxyJump=none", "StrictHostKeyChecking=yes", "GlobalKnownHostsFile=/dev/null", "BatchMode=yes",
                       "UserKnownHostsFile=\(known)", "Tunnel=no"] {
            #expect(set.contains(option), "\(option)")
        }
        #expect(!arguments.contains("-A") && !arguments.contains("-L") && !arguments.contains("-R"))
        #expect(Array(arguments.suffix(3)) == ["--", "10.0.0.5", "exec '/usr/bin/python3' -I -S -"])
    }

    @Test func onlyTheConfiguredKeyIsOffered() throws {
        let key = try write("id_ed25519", "key one")
        let arguments = SSHTransport(host: host(identity: key), knownHostsFile: "/dev/null", controlDirectory: folder.path)
            .arguments(python: "/usr/bin/python3")
        let index = try #require(arguments.firstIndex(of: "-i"))
        #expect(arguments[index + 1] == key)
        #expect(arguments.filter { $0 == "-i" }.count == 1)
        #expect(options(arguments).contains("IdentitiesOnly=yes"))
    }

    @Test func theInteractiveSessionGetsATerminalAndTheSameOptions() throws {
        let transport = SSHTransport(host: host(), knownHostsFile: "/dev/null", controlDirectory: folder.path)
        let plain = transport.arguments(python: "/usr/bin/python3")
        let interactive = transport.arguments(command: "exec true", terminal: true)
        #expect(Array(interactive.prefix(3)) == ["-F", "none", "-tt"])
        #expect(options(interactive) == options(plain))
    }

    @Test func theControlSocketChangesWithTheHostKeyTheKeyAndTheLogin() throws {
        let known = try write("known", "10.0.0.5 ssh-ed25519 AAAAold\n")
        let key = try write("id", "key one")
        let base = SSHTransport.controlName(host: host(identity: key), knownHostsFile: known)
        #expect(base.count == 24 && base.allSatisfy(\.isHexDigit))
        #expect(SSHTransport.controlName(host: host(identity: key), knownHostsFile: known) == base, "stable while nothing changes")
        #expect(SSHTransport.controlName(host: host(identity: key, user: "root"), knownHostsFile: known) != base)
        #expect(SSHTransport.controlName(host: host(identity: key, port: 2222), knownHostsFile: known) != base)
        _ = try write("id", "key two")
        let otherKey = SSHTransport.controlName(host: host(identity: key), knownHostsFile: known)
        #expect(otherKey != base, "another key in the same file")
        _ = try write("known", "10.0.0.5 ssh-ed25519 AAAAnew\n")
        #expect(SSHTransport.controlName(host: host(identity: key), knownHostsFile: known) != otherKey,
                "a host key changed in git never reuses the master made under the old one")
        let arguments = SSHTransport(host: host(), knownHostsFile: known, controlDirectory: folder.path).arguments(python: "/usr/bin/python3")
        #expect(options(arguments).contains("ControlPath=\(folder.path)/\(SSHTransport.controlName(host: host(), knownHostsFile: known))"))
    }

    @Test func theDefaultRuntimeFolderIsTheUsersOwnNeverASharedTemporaryName() {
        #expect(RuntimeFolder.defaultPath(environment: ["XDG_RUNTIME_DIR": "/run/user/1000"]) == "/run/user/1000/pinwheel")
        let fallback = RuntimeFolder.defaultPath(environment: [:])
        #expect(fallback.hasSuffix("/.cache/pinwheel/ssh") && !fallback.hasPrefix("/tmp/"), "\(fallback)")
        #expect(RuntimeFolder.defaultPath(environment: ["XDG_RUNTIME_DIR": "relative"]) == fallback)
    }

    @Test func theRuntimeFolderIsMadePrivate() throws {
        let path = folder.path("r/p")
        try RuntimeFolder.prepare(path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o077 } == 0)
    }

    @Test func aRuntimeFolderOthersCanWriteOrALinkIsRefusedSayingWhy() throws {
        let open = folder.path("open")
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: true)
        chmod(open, 0o777)
        let error = try #require(throws: FleetError.self) { try RuntimeFolder.prepare(open) }
        #expect(error.code == .unsafeRuntimeFolder)
        #expect(error.failure.code == .unsafeRuntimeFolder && error.failure.code.blame == .host && error.failure.code.isUnanswered)
        #expect(error.message.contains("\(open) is writable by its group or by others (mode 777)"), "\(error.message)")
        #expect(error.message.contains("nobody else can write"))

        let link = folder.path("link")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: open)
        let linked = try #require(throws: FleetError.self) { try RuntimeFolder.prepare(link) }
        #expect(linked.message.contains("is a symbolic link"))

        let long = "/" + String(repeating: "x", count: RuntimeFolder.longestPath)
        let tooLong = try #require(throws: FleetError.self) { try RuntimeFolder.prepare(long) }
        #expect(tooLong.message.contains("XDG_RUNTIME_DIR"))
    }

    @Test func aKnownHostsFileIsReusedOnlyWhenThisProcessWroteIt() throws {
        let data = Data("10.0.0.5 ssh-ed25519 AAAA\n".utf8)
        let first = try KnownHostsFiles.path(for: data, in: folder.path)
        #expect(try String(contentsOfFile: first, encoding: .utf8) == "10.0.0.5 ssh-ed25519 AAAA\n")
        let folderName = (first as NSString).deletingLastPathComponent
        #expect((folderName as NSString).lastPathComponent.hasPrefix("known-hosts-\(getpid())-"), "a random part, never adopted")
        #expect(try KnownHostsFiles.path(for: data, in: folder.path) == first)
        // A file planted under the name of another content is never taken for it: this process writes its own.
        let other = Data("10.0.0.5 ssh-ed25519 BBBB\n".utf8)
        let planted = "\(folderName)/\(ContentDigest.hex(of: other))"
        try Data("10.0.0.5 ssh-ed25519 EVIL\n".utf8).write(to: URL(fileURLWithPath: planted))
        let written = try KnownHostsFiles.path(for: other, in: folder.path)
        #expect(written == planted)
        #expect(try String(contentsOfFile: written, encoding: .utf8) == "10.0.0.5 ssh-ed25519 BBBB\n")
    }
}
