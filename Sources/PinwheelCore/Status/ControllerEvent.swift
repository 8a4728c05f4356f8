/// What a line of the controller's log marks, as a code: the `event` field of every line of `watch`'s log that
/// marks a step of its work (logfmt and `--log-format json` alike), with the names `apply --json` gives the same
/// things (`stage.started`, `host.finished`, `analysis.held`, …).
///
/// Log queries, alerts and tests match on the code and the line's fields, never on its message, whose wording may
/// change from one release to the next. A code keeps its meaning once it is given; new ones are only added.
public enum ControllerEvent: String, Sendable, CaseIterable {
    /// The loop started: `repository`, `branch`, `interval`.
    case watching = "controller.watching"
    /// At startup, whom the status branch is trusted from: `trust` is `signed` (with the controller's `key`),
    /// `verified` (committed unsigned, only statuses signed by a trusted key believed) or `unsigned`.
    case statusTrust = "controller.statusTrust"
    /// A stop was asked for (SIGTERM): the host steps under way finish, no new one starts.
    case stopping = "controller.stopping"
    /// The loop ended; the process exits next.
    case stopped = "controller.stopped"
    /// The watched branch moved to `commit`.
    case commitSeen = "commit.seen"
    /// The config repository could not be polled (`error`); the last applied state is kept.
    case repositoryUnreachable = "repository.unreachable"
    /// The config repository answers again.
    case repositoryReachable = "repository.reachable"
    /// The environment's config at `commit` is invalid: nothing is applied.
    case configInvalid = "config.invalid"
    /// Admission holds a commit back: it waits (`decision` `wait`) or is refused (`refuse`), for `reason` (an
    /// ``AdmissionReason``).
    case admissionHeld = "admission.held"
    /// No host of the environment could be set up to be reached (`code`, `error`): a host the config names is refused
    /// (`localHostRefused`), a file it names is not trusted, …; nothing ran.
    case hostsUnavailable = "hosts.unavailable"
    /// A host needs `steps`.
    case hostObserved = "host.observed"
    /// A host could not be reached (`code`, `error`).
    case hostUnreachable = "host.unreachable"
    /// The rollout's size: `hosts` as changing/total.
    case planned = "planned"
    /// A stage began (`stage`: `observe`, `prepare`, `canary`, `batch 1`, `pause`, `bake`, `idle`, `roll back`, …).
    case stageStarted = "stage.started"
    /// A host finished a stage's steps: `ok` true, or false with the failure's `code` and `error`.
    case hostFinished = "host.finished"
    /// The metric analysis measured a metric (`metric`, `outcome`).
    case analysisMeasured = "analysis.measured"
    /// The metric analysis holds the rollout: no data yet, or not enough.
    case analysisHeld = "analysis.held"
    /// A bake ended with a `verdict`.
    case analysisFinished = "analysis.finished"
    /// A newer commit stops the rollout under way at its next safe point (`commit`, `rolling out`).
    case rolloutPreempted = "rollout.preempted"
    /// A newer commit waits for the rollout under way to end.
    case rolloutKept = "rollout.kept"
    /// A push webhook was accepted: the controller polls at once.
    case webhookAccepted = "webhook.accepted"
    /// A status was committed to the status branch: `result` (`converged`, `halted`, …) for the desired `commit`.
    case statusCommitted = "status.committed"
    /// A status was not recorded: this replica no longer owns the environment, or a later owner recorded one.
    case statusNotRecorded = "status.notRecorded"
    /// Committing a status failed (`error`); it is tried again with the next reconcile.
    case statusFailed = "status.failed"
    /// A status on the status branch is not believed (unsigned, or signed by a key not trusted): `status`, and the
    /// `believed` one.
    case statusDisbelieved = "status.disbelieved"
    /// The controller committed the revert of a halted release (`revert`).
    case reverted = "commit.reverted"
    /// Hosts differ from what was applied (`hosts`).
    case driftFound = "drift.found"
    /// A notification failed and is sent again after `retry`.
    case notificationRetrying = "notification.retrying"
    /// A notification's receiver refused it (an answer that retrying cannot change): it is not sent again.
    case notificationRefused = "notification.refused"
    /// A notification could not be sent (its URL unreadable), or every retry failed (`attempt`).
    case notificationFailed = "notification.failed"
    /// A receiver's queue was full: its oldest notification was dropped.
    case notificationDropped = "notification.dropped"
    /// This replica joined the coordination store.
    case coordinationJoined = "coordination.joined"
    /// The coordination store does not answer; owned environments are acted on only until their renew deadline.
    case coordinationUnreachable = "coordination.unreachable"
    /// This replica took an environment's lease, under `epoch`.
    case leaseAcquired = "lease.acquired"
    /// Another replica owns an environment now: this one stops acting on it and gives the lease back when its rollout
    /// has stopped.
    case leaseHandedOver = "lease.handedOver"
    /// This replica gave an environment's lease back.
    case leaseReleased = "lease.released"
    /// This replica stopped acting on an environment: its lease was lost or could not be renewed in time.
    case leaseLost = "lease.lost"
}
