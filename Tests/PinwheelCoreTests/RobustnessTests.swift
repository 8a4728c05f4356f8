import Foundation
import Testing
@testable import PinwheelCore

/// The validator must never crash, whatever the files hold: every input ends in a report.
@Suite("Robustness")
struct RobustnessTests {
    /// A small deterministic generator, so a failure can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let alphabet = Array(" \n\t:-{}[],#'\"\\|>&*!%@`$;()0123456789abcAB~.=<>\u{0}\u{7F}é")

    private func mutate(_ text: String, using random: inout SplitMix) -> String {
        var characters = Array(text)
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            guard !characters.isEmpty else { break }
            let index = Int.random(in: 0..<characters.count, using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0: characters.remove(at: index)
            case 1: characters.insert(Self.alphabet.randomElement(using: &random)!, at: index)
            case 2: characters[index] = Self.alphabet.randomElement(using: &random)!
            default:
                let end = min(characters.count, index + Int.random(in: 1...40, using: &random))
                characters.removeSubrange(index..<end)
            }
        }
        return String(characters)
    }

    @Test(arguments: [Fixture.environmentPath, Fixture.policyPath, Fixture.slotAPath])
    func randomMutationsNeverCrash(_ path: String) throws {
        var random = SplitMix(state: UInt64(path.utf8.count) * 7919)
        let original = try #require(Fixture.files[path])
        var changed = 0
        for _ in 0..<300 {
            var files = Fixture.files
            files[path] = mutate(original, using: &random)
            let report = try Fixture.load(files)
            if report.hasErrors {
                changed += 1
                for diagnostic in report.diagnostics {
                    #expect(diagnostic.location.line >= 1 && diagnostic.location.column >= 1)
                    #expect(!diagnostic.message.isEmpty)
                }
                #expect(report.environments["prod"] == nil || path == Fixture.policyPath)
            }
        }
        #expect(changed > 100, "most random mutations should be caught")
    }

    @Test func hostileYAML() throws {
        let inputs = [
            "&a [*a]", "a: &x\n  b: *x\nc: *x", "? [a, b]\n: c", "!!binary AAAA", "---\n---\n", "a: !!int x",
            String(repeating: "[", count: 5000), String(repeating: "- ", count: 2000) + "x", "\u{FEFF}app: hello",
            "app: hello\n" + String(repeating: "x", count: 100_000),
        ]
        for input in inputs {
            var files = Fixture.files
            files[Fixture.environmentPath] = input
            let report = try Fixture.load(files)
            #expect(report.hasErrors)
        }
    }
}
