import Foundation
import Testing
@testable import PinwheelGit
#if canImport(Glibc)
import Glibc
#endif

/// A real OpenSSH server on 127.0.0.1 with its own host key and config, run as the current user.
final class TestSSHServer {
    let box: Sandbox
    let port: Int
    let hostPublicKey: String
    let clientKey: String
    /// sshd is started with posix_spawn, not Foundation's Process: sshd closes inherited
    /// descriptors, which Foundation on Linux mistakes for the child exiting, and then blocks
    /// its monitoring thread in waitpid, hanging every later Process.waitUntilExit.
    private let pid: pid_t

    static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") }

    init(box: Sandbox) throws {
        self.box = box
        let dir = box.path("sshd")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Self.keygen(dir + "/host_ed25519")
        clientKey = dir + "/client_ed25519"
        try Self.keygen(clientKey)
        try FileManager.default.copyItem(atPath: clientKey + ".pub", toPath: dir + "/authorized_keys")
        hostPublicKey = try String(contentsOfFile: dir + "/host_ed25519.pub", encoding: .utf8)
            .split(separator: " ").prefix(2).joined(separator: " ")
        port = try Self.freePort()
        if getuid() == 0, !FileManager.default.fileExists(atPath: "/run/sshd") {
            // sshd started as root insists on its privilege separation directory.
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        }
        let config = """
        Port \(port)
        ListenAddress 127.0.0.1
        HostKey \(dir)/host_ed25519
        PidFile \(dir)/sshd.pid
        AuthorizedKeysFile \(dir)/authorized_keys
        PubkeyAuthentication yes
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        UsePAM no
        StrictModes no
        PermitRootLogin prohibit-password
        AllowUsers \(Self.userName)
        """
        try config.write(toFile: dir + "/sshd_config", atomically: false, encoding: .utf8)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, dir + "/sshd.log", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let arguments: [String] = ["/usr/sbin/sshd", "-D", "-e", "-f", dir + "/sshd_config"]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        guard posix_spawn(&child, "/usr/sbin/sshd", &actions, nil, argv, environ) == 0 else {
            throw FixtureError("cannot start sshd")
        }
        pid = child
        // Wait until it listens.
        let deadline = Date().addingTimeInterval(5)
        while !Self.canConnect(port) {
            var status: Int32 = 0
            if Date() >= deadline || waitpid(pid, &status, WNOHANG) == pid {
                kill(pid, SIGTERM)
                throw FixtureError("sshd did not start: \((try? String(contentsOfFile: dir + "/sshd.log", encoding: .utf8)) ?? "")")
            }
            usleep(20_000)
        }
    }

    deinit {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    static var userName: String {
        guard let pw = getpwuid(getuid()), let name = pw.pointee.pw_name else { return "root" }
        return String(cString: name)
    }

    func url(_ repoPath: String) -> String { "ssh://\(Self.userName)@127.0.0.1:\(port)\(repoPath)" }

    static func keygen(_ path: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        p.arguments = ["-q", "-t", "ed25519", "-N", "", "-f", path]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw FixtureError("ssh-keygen failed") }
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw FixtureError("no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func canConnect(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

@Suite(.enabled(if: TestSSHServer.available, "needs /usr/sbin/sshd (Debian: openssh-server)"))
struct SSHTests {
    @Test func sshKeyAuthAndKnownHosts() async throws {
        let box = try Sandbox()
        let (work, remote, _) = try box.workAndRemote()
        let server = try TestSSHServer(box: box)
        let url = server.url(remote)
        let knownHosts = box.path("known_hosts")
        try "[127.0.0.1]:\(server.port) \(server.hostPublicKey)\n".write(toFile: knownHosts, atomically: false, encoding: .utf8)
        let options = RemoteOptions(credentials: .sshKey(user: TestSSHServer.userName, privateKey: server.clientKey,
                                                         publicKey: server.clientKey + ".pub"),
                                    knownHosts: knownHosts, deadline: .seconds(10))

        // Matching host key + authorized ed25519 key: clone, fetch and push work.
        let cache = try await Repository.clone(from: url, to: box.path("cache.git"), bare: true, options: options)
        #expect(try cache.resolve("origin/main").hex == box.git(["rev-parse", "HEAD"], in: work))
        let id = try cache.commit(changes: [.write("via-ssh", Data("1".utf8))], onBranch: "main", message: "ssh", author: ada)
        try await cache.push(branch: "main", options: options)
        #expect(try box.git(["rev-parse", "main"], in: remote) == id.hex)
        #expect(try await !cache.fetch(options: options).changed)

        // A different key recorded for the host: refused as a certificate error.
        let other = box.path("other_host")
        try TestSSHServer.keygen(other)
        let otherKey = try String(contentsOfFile: other + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        let mismatched = box.path("known_hosts_mismatch")
        try "[127.0.0.1]:\(server.port) \(otherKey)\n".write(toFile: mismatched, atomically: false, encoding: .utf8)
        var bad = options
        bad.knownHosts = mismatched
        let mismatch = await #expect(throws: GitError.self) { try await cache.fetch(options: bad) }
        #expect(mismatch?.code == .certificate)
        #expect(mismatch?.description.contains("does not match") == true)

        // Host not listed at all: refused too (never accepted blindly).
        let empty = box.path("known_hosts_empty")
        try "".write(toFile: empty, atomically: false, encoding: .utf8)
        bad.knownHosts = empty
        let unknown = await #expect(throws: GitError.self) { try await cache.fetch(options: bad) }
        #expect(unknown?.code == .certificate)
        #expect(unknown?.description.contains("not in") == true)

        // A key the server does not know: authentication error with the ed25519 hint.
        let stranger = box.path("stranger")
        try TestSSHServer.keygen(stranger)
        var wrongKey = options
        wrongKey.credentials = .sshKey(user: TestSSHServer.userName, privateKey: stranger, publicKey: stranger + ".pub")
        let auth = await #expect(throws: GitError.self) { try await cache.fetch(options: wrongKey) }
        #expect(auth?.code == .auth, "got \(String(describing: auth))")
        #expect(auth?.description.contains("ed25519") == true)
    }
}
