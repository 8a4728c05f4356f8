import ArgumentParser
import Foundation
import Logging
import PinwheelCoordination
import PinwheelCore
import PinwheelFleet
import Synchronization

/// `apply --coordination`: a person's apply takes the environment's lease in the same PostgreSQL database the
/// controllers share, as a replica of its own, so two applies (or an apply and a controller) never interleave on a
/// host: the later one refuses, naming who holds the lease, or with `--wait` waits for another apply to finish and
/// says so. Its requests carry the lease's epoch, so the hosts' fence refuses whoever held the environment before.
struct ApplyLeaseOptions: ParsableArguments {
    @Option(name: .customLong("coordination"),
            help: ArgumentHelp("Take the environment's lease in the controllers' PostgreSQL database first (the password from --coordination-password-file or $\(CoordinationOptions.passwordVariable)).",
                               valueName: "postgres://user@host[:port]/database"))
    var coordination: String?

    @Option(name: .customLong("coordination-password-file"), help: ArgumentHelp("File holding the database's password.", valueName: "path"))
    var passwordFile: String?

    @Flag(name: .customLong("wait"), help: "When another apply holds the lease, wait for it instead of refusing (a controller's lease is always refused).")
    var wait = false

    func validate() throws {
        if coordination == nil, passwordFile != nil || wait {
            throw ExitError.usage("--coordination-password-file and --wait go with --coordination")
        }
        if let coordination {
            do {
                _ = try CoordinationSettings(url: coordination)
            } catch {
                throw ExitError.usage("--coordination: \(error.description)")
            }
        }
    }
}

/// The lease an apply holds while it runs: renewed in the background, released at the end.
final class ApplyLease: Sendable {
    static let timing = LeaseTiming.recommended
    /// What applies are called in the store: controllers' replicas never start so.
    static let prefix = "apply-"

    let store: PostgresCoordination
    let holder: String
    let environment: String
    let epoch: Int64
    private let pool: Task<Void, Never>
    private let renewal = Mutex<Task<Void, Never>?>(nil)
    private let lostAt = Mutex<String?>(nil)

    private init(store: PostgresCoordination, pool: Task<Void, Never>, holder: String, environment: String, epoch: Int64) {
        self.store = store
        self.pool = pool
        self.holder = holder
        self.environment = environment
        self.epoch = epoch
    }

    /// Why it may no longer act (the lease could not be renewed in time), nil while it holds it.
    var lost: String? { lostAt.withLock { $0 } }

    /// Takes `environment`'s lease, waiting for another apply's with `wait`; nil without `--coordination`.
    static func take(_ environment: String, options: ApplyLeaseOptions, say: @escaping @Sendable (String) -> Void) async throws -> ApplyLease? {
        guard let url = options.coordination else { return nil }
        let password = try CoordinationOptions.passwordSource(file: options.passwordFile).loadIfSet()
        let settings: CoordinationSettings
        do {
            settings = try CoordinationSettings(url: url, password: password)
        } catch {
            throw ExitError.usage("--coordination: \(error.description)")
        }
        var logger = Logger(label: "pinwheel.apply.coordination")
        logger.logLevel = .warning
        let store = PostgresCoordination(settings: settings, logger: logger)
        do {
            try await store.check()
        } catch {
            throw ExitError.usage("--coordination: \(error)")
        }
        let pool = Task.detached { await store.run() }
        let user = ProcessInfo.processInfo.environment["USER"].map { String($0.unicodeScalars.filter(\.properties.isAlphabetic).prefix(32)) } ?? ""
        let holder = "\(prefix)\(user.isEmpty ? "user" : user)-\(getpid())"
        do {
            try await store.migrate()
            var announced = false
            while true {
                if let record = try await store.acquire(environment, holder: holder, duration: timing.duration) {
                    if announced { say("apply \(environment): the lease is free; applying under epoch \(record.epoch)") }
                    let lease = ApplyLease(store: store, pool: pool, holder: holder, environment: environment, epoch: record.epoch)
                    lease.startRenewing()
                    return lease
                }
                let current = try await store.leases().first { $0.environment == environment }
                let who = current.map { "\($0.holder) (lease epoch \($0.epoch))" } ?? "another replica"
                guard options.wait, current?.holder.hasPrefix(prefix) ?? true else {
                    let controller = current.map { !$0.holder.hasPrefix(prefix) } ?? false
                    throw ExitError.failed("refused: \(who) is acting on \(environment) now; "
                        + (controller ? "a controller owns it: let it apply the commit, or stop it first"
                                      : "try again when it is done, or give --wait"))
                }
                if !announced {
                    say("apply \(environment): waiting for \(who) to finish")
                    announced = true
                }
                try await Task.sleep(for: timing.retryPeriod.duration)
            }
        } catch {
            pool.cancel()
            throw error
        }
    }

    private func startRenewing() {
        let (store, holder, environment, epoch) = (store, holder, environment, epoch)
        let timing = Self.timing
        let task = Task { [self] in
            let origin = ContinuousClock.now
            var holding = LeaseHolding(environment: environment, epoch: epoch, timing: timing, acquiredAt: 0)
            while !Task.isCancelled {
                try? await Task.sleep(for: timing.retryPeriod.duration)
                let sent = (ContinuousClock.now - origin).inSeconds
                if let record = try? await store.renew(environment, holder: holder, epoch: epoch) {
                    _ = holding.renewed(sentAt: sent, epoch: record.epoch)
                }
                if !holding.mayAct(at: (ContinuousClock.now - origin).inSeconds) {
                    lostAt.withLock { $0 = "the lease of \(environment) could not be renewed within \(timing.renewDeadline)" }
                    return
                }
            }
        }
        renewal.withLock { $0 = task }
    }

    /// Stops renewing and gives the lease up, so a controller (or the next apply) takes it at once.
    func release() async {
        renewal.withLock { $0 }?.cancel()
        try? await store.release(environment, holder: holder, epoch: epoch)
        pool.cancel()
    }
}
