import Foundation
import PinwheelCore
import PinwheelFleet
import PinwheelEngine
import PinwheelGit
import Synchronization

/// The controller's side of notifications: which targets an environment has, and the events it sends. Sending
/// only queues (see ``Notifier``): nothing here waits for a receiver.
struct RolloutNotifications: Sendable {
    let notifier: Notifier
    let configuration: ControllerConfiguration

    /// The policy's targets and the controller's (`watch --notify`), each once.
    func notifyTargets(_ environment: Environment) -> [NotifyTarget] {
        var targets = environment.policy.notify
        for target in configuration.notify where !targets.contains(target) {
            targets.append(target)
        }
        return targets
    }

    /// An event about `commit` with what git says of it (summary, author) and the status page's link.
    func event(_ kind: NotificationKind, environment: String, commit: ObjectID, title: String,
               repository: WatchedRepository) -> NotificationEvent {
        var event = NotificationEvent(event: kind, environment: environment, commit: commit.hex, title: title, time: Controller.now())
        describe(&event, commit: commit, repository: repository)
        return event
    }

    func describe(_ event: inout NotificationEvent, commit: ObjectID, repository: WatchedRepository) {
        if let info = try? repository.repository.commitInfo(commit) {
            event.summary = info.summary
            event.author = .init(name: info.author.name, email: info.author.email)
        }
        event.link = configuration.statusPage.map { "\($0)/#\(event.environment)" }
    }

    /// Sends the event a published status stands for (refused, waiting, halted, reverted, converged).
    /// `report`: the reconcile the status records, whose failed hosts' output (kept out of the status) the event
    /// carries as each host's `detail`.
    func notify(_ kind: NotificationKind, status: EnvironmentStatus, environment: Environment, repository: WatchedRepository,
                once: String? = nil, report: ReconcileReport? = nil) {
        let targets = notifyTargets(environment)
        guard !targets.isEmpty, let commit = ObjectID(hex: status.desired) else { return }
        var event = NotificationEvent(kind, status: status, time: Controller.now())
        if let report {
            let details = Dictionary(report.hosts.compactMap { host in host.error?.detail.map { (host.host, $0) } }) { first, _ in first }
            for index in event.hosts.indices { event.hosts[index].detail = details[event.hosts[index].name] }
        }
        describe(&event, commit: commit, repository: repository)
        notifier.send(event, to: targets, once: once)
    }

    /// How a reconcile ended, for the notification: `reverted`, `halted`, or — when it changed a host —
    /// `converged` or `degraded`.
    func notifyFinished(_ desired: Environment, status: EnvironmentStatus, report: ReconcileReport,
                        repository: WatchedRepository) {
        guard !report.stoppedEarly else { return }
        let kind: NotificationKind
        if status.revert != nil {
            kind = .reverted
        } else if status.result == .halted {
            kind = .halted
        } else if status.result == .converged || status.result == .degraded, report.hosts.contains(where: { !$0.phases.isEmpty }) {
            kind = status.result == .converged ? .converged : .degraded
        } else {
            return
        }
        notify(kind, status: status, environment: desired, repository: repository, report: report)
    }

    /// The drift check found `hosts` no longer matching `commit`; sent once until the drifted hosts change.
    func notifyDrift(_ environment: Environment, commit: ObjectID, hosts: [HostReport], repository: WatchedRepository) {
        let targets = notifyTargets(environment)
        guard !targets.isEmpty else { return }
        let names = hosts.map(\.host).sorted()
        var event = event(.drift, environment: environment.name, commit: commit,
                          title: "\(environment.name): drift on \(names.joined(separator: ", ")) — no longer matching \(commit.short)",
                          repository: repository)
        event.message = "drift: \(environment.policy.drift == .heal ? "healing (reconciling the drifted hosts)" : "reported, nothing changed")"
        event.hosts = hosts.sorted { $0.host < $1.host }.map { report in
            NotificationEvent.Host(name: report.host, error: report.error?.description
                ?? report.plan.map { "needs " + $0.steps.map(\.description).joined(separator: ", ") },
                                   reason: report.error?.reason, detail: report.error?.detail)
        }
        notifier.send(event, to: targets, once: "drift \(commit.hex) \(names.joined(separator: ","))")
    }

    /// What announces a rollout's start, from the engine's events, or nil when the environment has no targets.
    func rolloutAnnouncer(_ desired: Environment, commit: ObjectID, repository: WatchedRepository) -> RolloutAnnouncer? {
        let targets = notifyTargets(desired)
        guard !targets.isEmpty else { return nil }
        let template = event(.started, environment: desired.name, commit: commit,
                             title: "\(desired.name): rolling out \(commit.short)", repository: repository)
        return RolloutAnnouncer(notifier: notifier, targets: targets, template: template)
    }
}

/// Sends `started` once per reconcile, when the engine has planned and some host needs a change (a reconcile
/// where every host already matches announces nothing).
final class RolloutAnnouncer: Sendable {
    private let notifier: Notifier
    private let targets: [NotifyTarget]
    private let template: NotificationEvent
    private let announced = Mutex(false)

    init(notifier: Notifier, targets: [NotifyTarget], template: NotificationEvent) {
        self.notifier = notifier
        self.targets = targets
        self.template = template
    }

    func observe(_ event: ReconcileEvent) {
        guard case let .planned(plans, total) = event else { return }
        let changing = plans.filter { !$0.isEmpty }
        guard !changing.isEmpty, announced.withLock({ announced in
            defer { announced = true }
            return !announced
        }) else { return }
        var started = template
        started.title += " to \(changing.count) of \(total) host\(total == 1 ? "" : "s")"
        if let summary = started.summary { started.title += ": \(summary)" }
        started.message = "the rollout starts"
        started.hosts = changing.map { NotificationEvent.Host(name: $0.host) }
        started.time = Controller.now()
        notifier.send(started, to: targets)
    }
}
