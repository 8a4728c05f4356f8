import ArgumentParser
import Foundation
import PinwheelCore
import PinwheelFleet

struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that every host of an environment has what Pinwheel needs, and say how to fix what it lacks.",
        discussion: """
            One round trip per host, all at once, over a new SSH connection each (no master connection is reused, so \
            the key and the login are really checked), host keys checked as always: SSH with the configured user and \
            key, the interpreter and venv (without uv: a pip to install with, or the uv the controller ships), uv \
            (optional), supervisord, supervisorctl, its include folder and `[include]` lines, nginx, `nginx -t`, \
            the upstream folder and the upstream file's include in the http block, the switch's verification through nginx's probe, disk space for two slots \
            (twice the largest build on the host, at least twice --slot-size), the root folder, clock skew. For each \
            problem it prints the command that fixes it. Changes nothing on the hosts. --verbose prints every check, \
            --json the checks as data.

            Exit status 0 when every host is ready, 1 otherwise, 2 on a usage error.
            """
    )

    @OptionGroup var target: HostTargetOptions

    @Option(name: .customLong("slot-size"),
            help: ArgumentHelp("The least disk space one slot's build is assumed to need (K, M, G suffixes); twice it, or twice the largest build on the host, must be free.",
                               valueName: "size"))
    var slotSize: String = "512M"

    @Flag(help: "Print every check, not only the ones that failed.")
    var verbose = false

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        if Self.bytes(slotSize) == nil {
            throw ExitError.usage("--slot-size must be a size such as 512M or 2G, found \(slotSize)")
        }
    }

    func run() async throws {
        let (desired, source) = try target.desired()
        // A new connection to each host, so its key and the login are really checked (no master connection reused).
        let transports = try target.transports(for: desired, source: source, multiplexed: false)
        let checkups = await FleetDoctor.examine(desired, transports: transports, slotBytes: Self.bytes(slotSize) ?? HostDoctor.defaultSlotBytes)
        if json {
            print(try JSON.string(checkups))
        } else {
            for checkup in checkups { Terminal.print(text(of: checkup, address: desired.host(named: checkup.host)?.address)) }
            let ready = checkups.filter(\.ready).count
            print("doctor: \(ready) of \(checkups.count) host\(checkups.count == 1 ? "" : "s") ready")
        }
        if !checkups.allSatisfy(\.ready) {
            throw ExitError.failed
        }
    }

    func text(of checkup: HostCheckup, address: String?) -> String {
        let required = checkup.problems.filter { !$0.optional }.count
        var lines = ["\(checkup.host)\(address.map { " (\($0))" } ?? ""): "
                     + (checkup.ready ? "ready" : "\(required) problem\(required == 1 ? "" : "s")")]
        for check in verbose ? checkup.checks : checkup.problems {
            let mark = check.ok ? "ok      " : check.optional ? "optional" : "MISSING "
            lines.append("  \(mark) \(check.name): \(check.detail.replacingOccurrences(of: "\n", with: "\n             "))")
            if let fix = check.fix {
                lines.append("           fix: \(fix.replacingOccurrences(of: "\n", with: "\n                "))")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `512M`, `2G`, `1048576`: bytes; nil for anything else.
    static func bytes(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(text.uppercased())
        var unit = 1
        if let last = digits.last, let multiplier = units[last] {
            unit = multiplier
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.count <= 12, digits.allSatisfy(\.isASCII), let value = Int(digits), value > 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: unit)
        return overflow || bytes > Int.max / 2 ? nil : bytes
    }
}
