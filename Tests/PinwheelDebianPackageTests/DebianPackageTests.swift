import Foundation
import PinwheelTestSupport
import Testing

/// The Debian package as a person installs it: built by scripts/package, checked by lintian and systemd-analyze,
/// unpacked, and its binary run from the unpacked tree with no Swift toolchain in its way.
///
/// scripts/test builds the package once before the Swift test targets and names it in `$PINWHEEL_PACKAGE` (the
/// release build takes minutes); run alone, the test builds it itself.
@Suite("Debian package", .serialized, .tags(.package))
struct DebianPackageTests {
    /// The .deb to check, and the folder it was unpacked into.
    final class Unpacked {
        let folder: TemporaryFolder
        let deb: String
        var root: String { folder.path("root") }

        init() async throws {
            folder = try TemporaryFolder("package")
            deb = try await DebianPackageTests.built.value
            let unpack = try await Shell.run("dpkg-deb", ["-x", deb, folder.path("root")])
            #expect(unpack.status == 0, "\(unpack.standardError)")
        }

        func field(_ name: String) async throws -> String {
            try await Shell.run("dpkg-deb", ["-f", deb, name]).standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// The package scripts/test built, or one built once for all the tests here, in scripts/package's own output
    /// folder (ignored by git, like the release build beside it).
    static let built = Task<String, any Error> {
        if let built = ProcessInfo.processInfo.environment["PINWHEEL_PACKAGE"], !built.isEmpty { return built }
        let output = try await Shell.script("package", [])
        return output.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func thePackagePassesLintianAndItsBinaryRunsWithoutSwift() async throws {
        let package = try await Unpacked()

        let lintian = try await Shell.run("lintian", ["--fail-on", "error", "--no-tag-display-limit", package.deb])
        #expect(lintian.status == 0, "\(lintian.standardOutput)\(lintian.standardError)")
        #expect(!lintian.standardOutput.split(separator: "\n").contains { $0.hasPrefix("E:") }, "\(lintian.standardOutput)")

        // The version is VERSION's, and the commit the package was built from is stamped in.
        let version = try String(contentsOf: Shell.packageRoot.appendingPathComponent("VERSION"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await package.field("Version") == version)
        let binary = "\(package.root)/usr/bin/pinwheel"
        let printed = try await Shell.run(binary, ["--version"])
        #expect(printed.status == 0)
        let commit = try #require(printed.standardOutput.firstMatch(of: /^(\S+) \(([0-9a-f]{7,})(-dirty)?\)\n$/), "\(printed.standardOutput)")
        #expect(commit.1 == version)

        // It validates the repository's own example environments and policies.
        let validate = try await Shell.run(binary, ["validate", "--repo", Shell.packageRoot.path])
        #expect(validate.status == 0, "\(validate.standardOutput)\(validate.standardError)")

        // No Swift runtime library: the program runs on a machine without a Swift toolchain.
        let ldd = try await Shell.run("ldd", [binary])
        #expect(ldd.status == 0)
        for runtime in ["libswiftCore", "libswift_", "libFoundation", "lib_Foundation", "libdispatch", "libBlocksRuntime"] {
            #expect(!ldd.standardOutput.contains(runtime), "\(runtime) linked:\n\(ldd.standardOutput)")
        }
        #expect(ldd.standardOutput.contains("libgit2"), "\(ldd.standardOutput)")
        // Depends: what it links (libgit2 above all) and runs (ssh, ssh-keygen); gpgv recommended.
        let depends = try await package.field("Depends")
        #expect(depends.contains("libgit2-1.5"), "\(depends)")
        #expect(depends.contains("openssh-client"), "\(depends)")
        #expect(try await package.field("Recommends") == "gpgv")
    }

    @Test func thePackageHoldsTheUnitCompletionsManPagesAndExamples() async throws {
        let package = try await Unpacked()
        let root = package.root
        for file in ["usr/share/bash-completion/completions/pinwheel", "usr/share/zsh/vendor-completions/_pinwheel",
                     "usr/share/fish/vendor_completions.d/pinwheel.fish", "usr/share/man/man1/pinwheel.1.gz",
                     "usr/share/man/man1/pinwheel-watch.1.gz", "usr/share/man/man1/pinwheel-validate.1.gz",
                     "usr/share/pinwheel/prometheus/pinwheel-alerts.yml", "usr/share/pinwheel/grafana/pinwheel-dashboard.json",
                     "usr/share/doc/pinwheel/copyright", "usr/share/doc/pinwheel/changelog.gz", "etc/default/pinwheel",
                     "lib/systemd/system/pinwheel.service"] {
            #expect(FileManager.default.fileExists(atPath: "\(root)/\(file)"), "\(file) missing")
        }
        let bash = try String(contentsOfFile: "\(root)/usr/share/bash-completion/completions/pinwheel", encoding: .utf8)
        #expect(bash.contains("watch") && bash.contains("--repo"))
        // The watch page is the command's own help: its options are there.
        let page = try await Shell.run("sh", ["-c", "gzip -dc '\(root)/usr/share/man/man1/pinwheel-watch.1.gz'"])
        #expect(page.standardOutput.contains("drift-interval"), "\(page.standardOutput.prefix(400))")

        let unit = try String(contentsOfFile: "\(root)/lib/systemd/system/pinwheel.service", encoding: .utf8)
        for line in ["Type=notify", "NotifyAccess=main", "EnvironmentFile=-/etc/default/pinwheel", "ProtectSystem=strict",
                     "StateDirectory=pinwheel", "PrivateTmp=yes", "NoNewPrivileges=yes", "ProtectHome=read-only", "User=pinwheel"] {
            #expect(unit.contains("\n\(line)\n"), "\(line) missing from the unit")
        }
        #expect(unit.contains("\nWatchdogSec="))
        // systemd's own check of the unit, in the unpacked tree (where its ExecStart= binary is) with this machine's
        // units beside it (the targets it is ordered after). An unknown or misspelt setting is a warning on standard
        // error, so the output must be empty. (`--man=no`: the man page is checked above; `man` need not be here.)
        let units = try await Shell.run("cp", ["-an", "/lib/systemd/system/.", "\(root)/lib/systemd/system/"])
        #expect(units.status == 0, "\(units.standardError)")
        let verify = try await Shell.run("systemd-analyze", ["verify", "--man=no", "--root=\(root)", "/lib/systemd/system/pinwheel.service"])
        #expect(verify.status == 0 && verify.standardError.isEmpty && verify.standardOutput.isEmpty,
                "\(verify.standardOutput)\(verify.standardError)")

        let postinst = try await Shell.run("sh", ["-c", "dpkg-deb --ctrl-tarfile '\(package.deb)' | tar -xO ./postinst"])
        #expect(postinst.standardOutput.contains("adduser --system"), "\(postinst.standardOutput)")
    }
}
