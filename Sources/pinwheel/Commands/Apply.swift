import ArgumentParser
import Foundation
import PinwheelConfig
import PinwheelController
import PinwheelCore
import PinwheelFleet
import PinwheelEngine
import PinwheelReleases

struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make every host of an environment match it now, by the environment's policy.",
        discussion: """
            Before touching any host, apply judges the commit as `watch` would (admission: quarantine, history \
            rewrite, signatures, promotion, deploy windows, the last applied commit read from the status branch of \
            --repo as `status` reads it): what the controller would refuse or hold, apply refuses with the \
            controller's message and its reason code (`pinwheel: staging waits (windowClosed): …`) and exit status \
            1, no host contacted. --override REASON applies it anyway and records who overrode which rule, and why, \
            in a status commit on --status-branch (`pinwheel history` shows it). Without --rev, the files on disk \
            are judged as HEAD's commit; when they differ from HEAD, quarantine and history are judged on HEAD and, \
            under `verify: {signatures: required}`, apply refuses (`notCommitted`: only commits can be verified). In \
            a folder that is no git repository only the rules that need no commit apply.

            Then one reconcile now, by the environment's policy, with the same engine as `pinwheel watch`: observe \
            every host (a host whose desired slot is already warm switches to it in that round trip), prepare the \
            active slot where it is missing, switch the canary, then batches with the policy's pause between them, \
            then prepare idle slots. Past the policy's maxFailures no further host is switched; `onFailure: \
            rollback` (and `revert`) switches the hosts already switched back. With `onFailure: revert`, apply \
            commits the `git revert` of the release only when given --revert (on the checked-out branch of --repo, \
            as `pinwheel rollback` does, with the controller's message); otherwise it says what to run. \
            --all-at-once is for emergencies: no canary, batches or pauses.

            While it runs it draws a live status line on a terminal (a plain line per host event anywhere else), \
            then prints a summary: each host's outcome (converged, changed, failed with the host's own output, \
            unreachable) and the pins whose versions changed for its traffic. --json streams one JSON object per \
            event instead (schema pinwheel.apply/v1; the last line, `apply.finished`, has every host's summary). \
            --timings adds, after the summary, the wall time of each action (observe, prepare, switch canary, switch \
            batch 1, idle) and the slowest host's seconds per kind of step (to standard error with --json).

            The first Ctrl-C (SIGINT, or SIGTERM) stops the rollout at its next safe point: a pause ends at once, no \
            host not yet reached is touched, and a host's switch under way finishes (never left half done); apply \
            then prints each host's state (`interrupted` for a host it had not finished) and which hosts it \
            switched, commits nothing, and exits 130 (143 for SIGTERM). A second Ctrl-C ends it at once.

            Exit status 0 when every host converged, 1 when any failed or was unreachable, the rollout halted, or \
            admission held the commit back, 2 on a usage error, 130 (SIGINT) or 143 (SIGTERM) when interrupted.
            """
    )

    @OptionGroup var target: HostTargetOptions

    /// The keys commits' signatures are checked against under `verify: {signatures: required}`, as `watch` has them.
    @OptionGroup var trustedKeys: TrustedKeyOptions

    @OptionGroup var signatureRule: SignatureRuleOptions

    @Flag(name: .customLong("allow-history-rewrite"),
          help: "Accept a commit that does not descend from the last applied one (a force-push or a rebase), as `watch --allow-history-rewrite` does.")
    var allowHistoryRewrite = false

    @Option(name: .customLong("override"),
            help: ArgumentHelp("Apply even what admission holds back (a closed window, unsigned commits, …), recording this reason, who gave it and the rules it overrode on the status branch.",
                               valueName: "reason"))
    var overrideReason: String?

    /// The status branch the last applied commit is read from and an override is recorded on.
    @OptionGroup var statusBranchOptions: StatusBranchOptions

    /// The controller's status key: an override's status is signed with it, and only statuses it signed are believed.
    @OptionGroup var statusKeys: StatusKeyOptions
    @OptionGroup var artifacts: ArtifactCacheOptions
    /// Where the policy's `analysis:` metrics are measured.
    @OptionGroup var prometheus: PrometheusOptions

    @Flag(help: "Emergencies only: ignore the policy's canary, batches and pauses and switch every host at once.")
    var allAtOnce = false

    @Flag(help: "When the rollout halts and the policy says onFailure: revert, commit the git revert of the release.")
    var revert = false

    @OptionGroup(title: "Several controllers") var leaseOptions: ApplyLeaseOptions

    @Flag(help: ArgumentHelp("Print one JSON object per line for each event as it happens (schema pinwheel.apply/v1), instead of text.",
                             discussion: "The last line (`apply.finished`) has every host's summary."))
    var json = false

    @Flag(name: .shortAndLong, help: "Do not print progress while it runs.")
    var quiet = false

    @Flag(help: ArgumentHelp("After the summary, print the wall time of each action (observe, prepare, each switch, idle) and the slowest host's seconds per kind of step.",
                             discussion: "With --json they go to standard error."))
    var timings = false

    func validate() throws {
        if let overrideReason, overrideReason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ExitError.usage("--override needs a reason: what makes applying now right (it is recorded on the status branch)")
        }
    }

    func run() async throws {
        let (desired, source) = try repository.environment(environment)
        let quiet = self.quiet || json
        let lines = json ? JSONLines() : nil
        let admission = try await ApplyAdmission.judge(desired, source: source, options: repository, statusBranch: statusBranch,
                                                       trusted: signatureRule.applied(to: trustedKeys.trusted),
                                                       allowHistoryRewrite: allowHistoryRewrite,
                                                       statusVerifier: try statusVerifier(), quiet: quiet)
        let overriding = try admit(admission, lines: lines, quiet: quiet)
        // With --coordination: the environment's lease first, released however the apply ends.
        let lease = try await ApplyLease.take(environment, options: leaseOptions) { message in
            if !quiet { StandardError.write(message) }
        }
        do {
            try await carryOut(desired, source: source, admission: admission, overriding: overriding, lines: lines, quiet: quiet,
                               lease: lease)
        } catch {
            await lease?.release()
            throw error
        }
        await lease?.release()
    }

    /// The reconcile, its report, the override's record and the revert; under `lease` when there is one.
    private func carryOut(_ desired: Environment, source: any ConfigSource, admission: ApplyAdmission, overriding: Overriding?,
                          lines: JSONLines?, quiet: Bool, lease: ApplyLease?) async throws {
        let transports = try wrapUsage { try TransportFactory.transports(for: desired, source: source, trust: localFiles.trust) }
        let metricSource = try prometheus.client()
        let timings = self.timings ? PhaseTimings() : nil
        let commit = (source as? CommitConfigSource)?.commit.hex
        let live = !quiet && LiveProgress.wanted ? LiveProgress(environment: environment, hosts: desired.hosts.count) : nil
        var agents = HostAgent.agents(for: desired, transports: transports, commit: commit, artifactCache: artifacts.cache)
        for index in agents.indices { agents[index].epoch = lease?.epoch }
        var reconciler = EnvironmentReconciler(environment: desired, agents: agents) { event in
            timings?.record(event)
            if let lines {
                for line in ApplyEventLine.lines(for: event) { lines.write(line.json()) }
            } else if let live {
                live.event(event)
            } else if !quiet {
                ProgressPrinter.event(event)
            }
        }
        reconciler.metricSource = metricSource
        if let lease {
            // A lease that could not be renewed in time: no further step, as a controller that lost it.
            reconciler.shouldStop = { lease.lost != nil }
        }
        if allAtOnce {
            reconciler.policy.rollout.canary = 0
            reconciler.policy.rollout.batch = .percent(100)
            reconciler.policy.rollout.pause = .seconds(0)
            reconciler.policy.bake = .seconds(0)
            reconciler.policy.analysis = nil
        }
        if !quiet {
            let rollout = reconciler.policy.rollout
            StandardError.write("apply \(environment): active slot \(desired.active), \(desired.hosts.count) host\(desired.hosts.count == 1 ? "" : "s"), "
                + (allAtOnce ? "all at once" : "canary \(rollout.canary), batches of \(rollout.batch), pause \(rollout.pause)"))
            if let analysis = reconciler.policy.analysis, !analysis.metrics.isEmpty, !allAtOnce {
                StandardError.write("apply: after the canary and each batch, bake \(reconciler.policy.bake) and measure \(analysis.metrics.count) metric\(analysis.metrics.count == 1 ? "" : "s") "
                    + (metricSource.map { "against \($0.shown)" } ?? "— no --prometheus given: every measurement is no data, and `noData` decides"))
            }
            if rollout.onFailure == .revert && !revert {
                StandardError.write("apply: the policy says onFailure: revert; without --revert, apply rolls back on failure but commits no revert")
            }
        }
        if let lines {
            var started = ApplyEventLine(event: "apply.started")
            started.environment = environment
            started.commit = commit
            started.total = desired.hosts.count
            started.hosts = desired.hosts.map(\.name)
            lines.write(started.json())
        }
        let engine = reconciler
        let (report, signal) = await InterruptSignals.run(
            notice: "apply: stopping at the next safe point (host switches under way finish); press Ctrl-C again to stop at once"
        ) { await engine.reconcile() }
        live?.finish()
        let summaries = report.hosts.map { HostSummary($0, planned: false) }
        let failed = report.outcome.result == .halted || report.hosts.contains { $0.outcome == .failed || $0.outcome == .unreachable }
        let interrupted = signal.flatMap { signal in report.interruption.map { _ in InterruptSignals.exitStatus(signal) } }
        if let lines {
            lines.write(ApplyFinished(result: report.outcome.result.rawValue, message: report.outcome.message,
                                      seconds: report.duration.inSeconds, exit: Int(interrupted ?? (failed ? 1 : 0)),
                                      hosts: summaries).json())
        } else {
            for summary in summaries { Terminal.print(summary.text) }
            let count = { (outcome: HostReport.Outcome) in report.hosts.filter { $0.outcome == outcome }.count }
            let interruptedHosts = count(.interrupted) > 0 ? ", \(count(.interrupted)) interrupted" : ""
            print(String(format: "apply: %d host%@ in %.1fs — %d converged, %d changed, %d failed, %d unreachable%@; %@",
                         report.hosts.count, report.hosts.count == 1 ? "" : "s",
                         report.duration.inSeconds,
                         count(.converged), count(.changed), count(.failed), count(.unreachable), interruptedHosts,
                         report.outcome.message))
        }
        if let timings {
            for line in timings.lines {
                if json { StandardError.write(line) } else { print(line) }
            }
        }
        if let interrupted {
            // Stopped at a safe point: each host's line above says what it serves; nothing is reverted or recorded.
            StandardError.write("apply: interrupted, \(report.interruption?.summary ?? "stopped"); run apply again to carry on")
            throw ExitError.status(interrupted)
        }
        if let overriding {
            try await record(overriding, desired: desired, admission: admission, report: report)
        }
        if report.outcome.revert {
            try revertRelease(report.outcome)
        }
        if failed {
            throw ExitError.failed
        }
    }

    /// Commits the revert the policy asks for, or says how to.
    private func revertRelease(_ outcome: RolloutMachine.Outcome) throws {
        guard revert else {
            StandardError.write("apply: not reverted in git; run `pinwheel rollback \(environment) --repo \(repository.repo)` "
                + "(or apply with --revert) so the repository says what the fleet runs again")
            return
        }
        let git = try GitSupport.open(repository.repo)
        let halt = RevertMessage.Halt(environment: environment, reason: outcome.message, failures: outcome.failures)
        let result = try GitSupport.committing(in: git) {
            try RollbackCommit(environment: environment, halt: halt).commit(in: git, author: $0, committer: $1)
        }
        GitSupport.reportWorkTree(result.workTreeError)
        print("apply: reverted \(result.reverted.id.short) \"\(result.reverted.summary)\" with \(result.commit.hex) on \(result.branch)")
    }
}

/// `apply --json`'s last line: how the apply ended and every host's summary (what `--json` printed as one array
/// before the event stream).
struct ApplyFinished: Encodable {
    var v = ApplyEventLine.version
    var event = "apply.finished"
    var result: String
    var message: String
    var seconds: Double
    var exit: Int
    var hosts: [HostSummary]

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"v":1,"event":"apply.finished"}"#
    }
}

/// `apply --json`'s line when admission holds the commit back: the machine-readable verdict.
struct ApplyHeld: Encodable {
    var v = ApplyEventLine.version
    var event = "apply.held"
    var environment: String
    var commit: String?
    /// `wait` or `refuse`.
    var decision: String
    /// The ``AdmissionReason`` code of the first rule that holds it.
    var reason: String
    /// Every rule that holds it.
    var reasons: [String]
    var message: String
    /// Whether `--override` applies it anyway.
    var overridden: Bool

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"v":1,"event":"apply.held"}"#
    }
}
