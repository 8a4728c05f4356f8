import Foundation
import Testing
@testable import PinwheelCore

/// Which shipped files a host gets, by the platform its agent reported, and which uv wheel runs there.
@Suite("Host platforms and wheel tags")
struct HostPlatformTests {
    static let glibc236 = HostPlatform(machine: "x86_64", libc: "glibc", libcVersion: "2.36")
    static let oldGlibc = HostPlatform(machine: "x86_64", libc: "glibc", libcVersion: "2.12")
    static let musl = HostPlatform(machine: "x86_64", libc: "musl")
    static let arm = HostPlatform(machine: "aarch64", libc: "glibc", libcVersion: "2.36")

    @Test func manylinuxTagsNeedTheMachineAndAGlibcAtLeastAsNew() {
        let wheel = "mini-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
        #expect(Self.glibc236.accepts(wheel: wheel))
        #expect(!Self.oldGlibc.accepts(wheel: wheel))
        #expect(!Self.arm.accepts(wheel: wheel))
        #expect(!Self.musl.accepts(wheel: wheel))
        #expect(Self.oldGlibc.accepts(wheel: "mini-1.0-cp312-cp312-manylinux2010_x86_64.whl"))
        #expect(Self.oldGlibc.accepts(wheel: "mini-1.0-cp312-cp312-manylinux1_x86_64.whl"))
        #expect(!Self.glibc236.accepts(wheel: "mini-1.0-cp312-cp312-manylinux_2_39_x86_64.whl"))
        #expect(Self.arm.accepts(wheel: "mini-1.0-cp312-cp312-manylinux_2_28_aarch64.whl"))
        // A build tag does not move the platform tag.
        #expect(Self.glibc236.accepts(wheel: "mini-1.0-1-cp312-cp312-manylinux_2_17_x86_64.whl"))
    }

    @Test func musllinuxOtherSystemsAndPureWheels() {
        #expect(Self.musl.accepts(wheel: "mini-1.0-cp312-cp312-musllinux_1_1_x86_64.whl"))
        #expect(!Self.glibc236.accepts(wheel: "mini-1.0-cp312-cp312-musllinux_1_1_x86_64.whl"))
        #expect(!Self.musl.accepts(wheel: "mini-1.0-cp312-cp312-musllinux_1_1_aarch64.whl"))
        for other in ["mini-1.0-cp312-cp312-macosx_11_0_arm64.whl", "mini-1.0-cp312-cp312-win_amd64.whl", "mini-1.0.tar.gz",
                      "not-a-wheel.whl", "mini-1.0-cp312-cp312-manylinux_x_y_x86_64.whl", "mini-1.0-cp312-cp312-.whl"] {
            #expect(!Self.glibc236.accepts(wheel: other), "\(other)")
        }
        #expect(Self.arm.accepts(wheel: "mini-1.0-py3-none-any.whl"))
        #expect(Self.glibc236.accepts(wheel: "mini-1.0-cp312-cp312-linux_x86_64.whl"))
        // Unknown C library: every Linux tag of the machine, the installer decides.
        let unknown = HostPlatform(machine: "x86_64")
        #expect(unknown.accepts(wheel: "mini-1.0-cp312-cp312-musllinux_1_2_x86_64.whl"))
        #expect(unknown.accepts(wheel: "mini-1.0-cp312-cp312-manylinux_2_99_x86_64.whl"))
        #expect(!unknown.accepts(wheel: "mini-1.0-cp312-cp312-manylinux_2_17_aarch64.whl"))
    }

    static func file(_ name: String, _ digit: Character) -> ShippedArtifact {
        ShippedArtifact(name: name, sha256: String(repeating: digit, count: 64), size: 1)
    }

    @Test func eachHostIsSentOnlyWhatItsPlatformInstalls() {
        let x86 = Self.file("mini-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", "1")
        let x86Other = Self.file("mini-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "2")
        let arm = Self.file("mini-1.0-cp312-cp312-manylinux_2_17_aarch64.whl", "3")
        let musl = Self.file("mini-1.0-cp312-cp312-musllinux_1_1_x86_64.whl", "4")
        let sdist = Self.file("mini-1.0.tar.gz", "5")
        let pure = Self.file("mini-1.0-py3-none-any.whl", "6")
        let files = [x86, x86Other, arm, musl, sdist]
        #expect(ArtifactChoice.forHost(files, platform: Self.glibc236) == [x86, x86Other])
        #expect(ArtifactChoice.forHost(files, platform: Self.arm) == [arm])
        #expect(ArtifactChoice.forHost(files, platform: Self.musl) == [musl])
        // No wheel for the host: the sdist, built there.
        #expect(ArtifactChoice.forHost(files, platform: HostPlatform(machine: "s390x", libc: "glibc", libcVersion: "2.36")) == [sdist])
        // Nothing known of the host: every wheel, as before.
        #expect(ArtifactChoice.forHost(files, platform: nil) == [x86, x86Other, arm, musl])
        #expect(ArtifactChoice.forHost([sdist], platform: nil) == [sdist])
        // A pure wheel serves everyone, alone.
        #expect(ArtifactChoice.forHost([x86, pure, sdist], platform: Self.arm) == [pure])
        // No wheel it takes and no sdist: every wheel, so the host's installer says what it lacks.
        #expect(ArtifactChoice.forHost([arm], platform: Self.glibc236) == [arm])
    }

    @Test func withTheInterpreterKnownOnlyTheWheelsItInstallsAreSent() {
        var cp312 = Self.glibc236
        cp312.implementation = "cpython"
        cp312.python = "3.12"
        let x86 = Self.file("mini-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", "1")
        let x86Other = Self.file("mini-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "2")
        let abi3 = Self.file("mini-1.0-cp38-abi3-manylinux_2_17_x86_64.whl", "3")
        let sdist = Self.file("mini-1.0.tar.gz", "5")
        #expect(ArtifactChoice.forHost([x86, x86Other, sdist], platform: cp312) == [x86])
        #expect(ArtifactChoice.forHost([x86Other, abi3, sdist], platform: cp312) == [abi3])
        // Only the interpreter the agent runs on is known: a slot on another one is judged by its platform alone.
        #expect(ArtifactChoice.forHost([x86, x86Other], platform: cp312.withoutInterpreter) == [x86, x86Other])
        // None for this interpreter: the sdist, built there.
        #expect(ArtifactChoice.forHost([x86Other, sdist], platform: cp312) == [sdist])
    }

    @Test func anAlternativeOfAMarkerSplitPinForAnotherInterpreterOrMachineIsNotShipped() {
        func pin(_ version: String, _ marker: String?) -> Pin {
            Pin(name: "numpy", version: version, hashes: ["sha256:" + String(repeating: "a", count: 64)], marker: marker)
        }
        let old = pin("1.26.4", "python_version < '3.12'")
        let new = pin("2.1.0", "python_version >= '3.12'")
        let windows = pin("0.4.6", "sys_platform == 'win32'")
        let arm = pin("1.0", "platform_machine == 'aarch64'")
        let pypy = pin("2.0", "implementation_name == 'pypy'")
        let plain = pin("3.0", nil)
        let all = [old, new, windows, arm, pypy, plain]
        var host = Self.glibc236
        host.implementation = "cpython"
        host.python = "3.11"
        #expect(ArtifactChoice.pins(all, for: host) == [old, plain])
        // The interpreter not known (a slot on its own, an older agent): what depends on it stays, the host decides.
        #expect(ArtifactChoice.pins(all, for: host.withoutInterpreter) == [old, new, pypy, plain])
        // Nothing known of the host: it runs Linux.
        #expect(ArtifactChoice.pins(all, for: nil) == [old, new, arm, pypy, plain])
    }

    @Test func pythonAndABITagsAreJudgedAsPipDoes() {
        var host = Self.glibc236
        host.implementation = "cpython"
        host.python = "3.11"
        let platform = "manylinux_2_17_x86_64"
        for (tags, taken) in [("cp311-cp311", true), ("cp311-cp311d", true), ("cp311-none", true), ("cp312-cp312", false),
                              ("cp310-cp310", false), ("cp37-abi3", true), ("cp311-abi3", true), ("cp312-abi3", false),
                              ("py3-none", true), ("py311-none", true), ("py39-none", true), ("py312-none", false),
                              ("py2-none", false), ("py2.py3-none", true), ("pp310-pypy310_pp73", false),
                              ("cp27-cp27mu", false), ("graalpy311-graalpy242_311_native", false), ("xx1-yy", true)] {
            #expect(host.accepts(wheel: "mini-1.0-\(tags)-\(platform).whl") == taken, "\(tags)")
        }
        // Another implementation, or none reported (an older agent): the platform alone decides.
        host.implementation = "pypy"
        #expect(host.accepts(wheel: "mini-1.0-cp312-cp312-\(platform).whl"))
        host.implementation = nil
        #expect(host.accepts(wheel: "mini-1.0-cp312-cp312-\(platform).whl"))
    }

    @Test func whatAHostReportsIsCheckedBeforeUse() throws {
        #expect(HostPlatform(machine: "x86_64; rm -rf /").checked() == nil)
        #expect(HostPlatform(machine: String(repeating: "a", count: 40)).checked() == nil)
        let odd = HostPlatform(machine: "x86_64", libc: "bionic", libcVersion: "2.x", uv: true).checked()
        #expect(odd == HostPlatform(machine: "x86_64", libc: nil, libcVersion: nil, uv: true))
        #expect(Self.glibc236.checked() == Self.glibc236)
        // It travels in the observation as the agent writes it.
        let json = #"{"machine": "aarch64", "libc": "glibc", "libcVersion": "2.36", "uv": false}"#
        #expect(try JSONDecoder().decode(HostPlatform.self, from: Data(json.utf8)) == Self.arm)
        let withPython = #"{"machine": "aarch64", "libc": "glibc", "libcVersion": "2.36", "uv": false, "implementation": "cpython", "python": "3.11"}"#
        let decoded = try JSONDecoder().decode(HostPlatform.self, from: Data(withPython.utf8))
        #expect(decoded.implementation == "cpython" && decoded.python == "3.11")
        let oddPython = HostPlatform(machine: "x86_64", implementation: "c python", python: "3.x").checked()
        #expect(oddPython?.implementation == nil && oddPython?.python == nil)
    }

    static func candidate(_ name: String) -> ArtifactChoice.Candidate {
        .init(name: name, sha256: String(repeating: "a", count: 64), location: "https://files/\(name)")
    }

    @Test func theUVWheelOfTheExactVersionForTheHostsPlatform() {
        let offered = [
            "uv-0.13.9.tar.gz",
            "uv-0.13.9-py3-none-macosx_11_0_arm64.whl",
            "uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "uv-0.13.9-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
            "uv-0.13.9-py3-none-musllinux_1_1_x86_64.whl",
            "uv-0.13.8-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "uv-0.13.90-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        ].map(Self.candidate)
        #expect(UVWheelChoice.choose(version: "0.13.9", from: offered, platform: Self.glibc236)?.name
                == "uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
        #expect(UVWheelChoice.choose(version: "0.13.9", from: offered, platform: Self.arm)?.name
                == "uv-0.13.9-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.whl")
        #expect(UVWheelChoice.choose(version: "0.13.9", from: offered, platform: Self.musl)?.name
                == "uv-0.13.9-py3-none-musllinux_1_1_x86_64.whl")
        #expect(UVWheelChoice.choose(version: "0.13.9", from: offered, platform: Self.oldGlibc) == nil)
        #expect(UVWheelChoice.choose(version: "0.14.0", from: offered, platform: Self.glibc236) == nil)
    }

    @Test func theShippedUVIsAnExactVersionInTheConfig() throws {
        let files = ShippingTests.files(source: "{ship: {index: 'https://pypi.example.com/simple/', uv: 0.13.9}}")
        let environment = try ConfigLoader(source: InMemorySource(files)).environment("mini")
        #expect(environment.source == .ship(.index("https://pypi.example.com/simple/"), uv: "0.13.9"))
        let encoded = try JSONEncoder().encode(environment.source)
        #expect(try JSONDecoder().decode(PackageSource.self, from: encoded) == environment.source)
        // The installer does not change what a slot holds: no rebuild for adding uv.
        let without = try ConfigLoader(source: InMemorySource(ShippingTests.files(source: "{ship: {index: 'https://pypi.example.com/simple/'}}")))
            .environment("mini")
        let host = try #require(environment.hosts.first)
        #expect(SlotFingerprint.of(environment.slotSpec(.a, on: host)) == SlotFingerprint.of(without.slotSpec(.a, on: host)))
        for bad in ["latest", "'>=0.13'", "'0.13.9; rm'", "'0'"] {
            let found = try ShippingTests.diagnostics(ShippingTests.files(source: "{ship: {wheels: /w, uv: \(bad)}}"))
            #expect(found.contains { $0.hasPrefix("Environments/mini/environment.yaml:3:") && $0.contains("`source.ship.uv` must be an exact uv version") },
                    "\(bad): \(found)")
        }
    }
}
