import Foundation
import Logging
import PinwheelCore
import PostgresNIO

/// Leases and replica heartbeats in PostgreSQL: the store several controllers share to decide who acts on which
/// environment.
///
/// Every decision is one statement, so the database's row locks make it atomic: acquiring succeeds only when the
/// lease is free, expired, or already ours; renewing only while it has not expired; taking over raises the epoch.
/// Time is the database's (`now()`), so the replicas' clocks never have to agree.
public final class PostgresCoordination: Sendable {
    let client: PostgresClient
    let logger: Logger
    public let settings: CoordinationSettings
    /// How long one statement may take, waiting for a connection included: a holder must learn well within its renew
    /// deadline that it cannot renew.
    public let statementTimeout: Duration

    public init(settings: CoordinationSettings, logger: Logger, statementTimeout: Duration = .seconds(3)) {
        var configuration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password,
            database: settings.database, tls: Self.tls(settings))
        configuration.options.connectTimeout = statementTimeout
        configuration.options.maximumConnections = 4
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.settings = settings
        self.logger = logger
        self.statementTimeout = statementTimeout
    }

    static func tls(_ settings: CoordinationSettings) -> PostgresClient.Configuration.TLS {
        settings.tls == .disable ? .disable : .require(.makeClientConfiguration())
    }

    /// Connects once, outside the pool, and says why that fails (a wrong password, an unknown database, nothing
    /// listening): the pool only retries, so this is what `watch` runs at start to fail with a reason.
    public func check() async throws {
        let configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password,
            database: settings.database,
            tls: settings.tls == .disable ? .disable : .require(try .init(configuration: .makeClientConfiguration())))
        let logger = logger
        let connection: PostgresConnection
        do {
            connection = try await withDeadline { try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger) }
        } catch let error as PSQLError {
            throw Failure(description: Self.describe(error, store: settings.shown))
        }
        try? await connection.close()
    }

    /// Runs the connection pool until the task is cancelled; the store works while this runs.
    public func run() async {
        await client.run()
    }

    /// Why a statement failed, without the server's full error (which may quote the statement) or a credential.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `body` against the store while its pool runs, then stops the pool: for commands and tests.
    public func withRunning<Result: Sendable>(_ body: @Sendable (PostgresCoordination) async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.run() }
            defer { group.cancelAll() }
            return try await body(self)
        }
    }

    // MARK: Schema

    /// Creates the tables when they are missing: safe to run from every replica at every start.
    public func migrate() async throws {
        try await execute("""
            CREATE TABLE IF NOT EXISTS pinwheel_leases (
                environment text PRIMARY KEY,
                holder text NOT NULL,
                epoch bigint NOT NULL,
                renewed_at timestamptz NOT NULL,
                duration_ms bigint NOT NULL
            )
            """)
        try await execute("""
            CREATE TABLE IF NOT EXISTS pinwheel_replicas (
                replica text PRIMARY KEY,
                heartbeat_at timestamptz NOT NULL
            )
            """)
    }

    // MARK: Replicas

    /// Records that `replica` is alive now.
    public func heartbeat(_ replica: String) async throws {
        try await execute("""
            INSERT INTO pinwheel_replicas (replica, heartbeat_at) VALUES (\(replica), now())
            ON CONFLICT (replica) DO UPDATE SET heartbeat_at = now()
            """)
    }

    /// The replicas that sent a heartbeat within `window`, sorted.
    public func liveReplicas(within window: ConfigDuration) async throws -> [String] {
        let milliseconds = window.milliseconds
        return try await rows("""
            SELECT replica FROM pinwheel_replicas
            WHERE heartbeat_at > now() - \(milliseconds) * interval '1 millisecond' ORDER BY replica
            """, as: String.self)
    }

    /// Forgets `replica` (a clean shutdown): the others take its environments at once instead of after its window.
    public func leave(_ replica: String) async throws {
        try await execute("DELETE FROM pinwheel_replicas WHERE replica = \(replica)")
        try await execute("UPDATE pinwheel_leases SET renewed_at = 'epoch' WHERE holder = \(replica)")
    }

    // MARK: Leases

    /// Takes `environment`'s lease for `holder` when it is free, expired or already `holder`'s; the lease (with its
    /// epoch, raised when it changes hands) or nil when another replica holds it.
    public func acquire(_ environment: String, holder: String, duration: ConfigDuration) async throws -> LeaseRecord? {
        let milliseconds = duration.milliseconds
        return try await lease("""
            INSERT INTO pinwheel_leases (environment, holder, epoch, renewed_at, duration_ms)
            VALUES (\(environment), \(holder), 1, now(), \(milliseconds))
            ON CONFLICT (environment) DO UPDATE SET
                holder = EXCLUDED.holder,
                epoch = CASE WHEN pinwheel_leases.holder = EXCLUDED.holder THEN pinwheel_leases.epoch
                             ELSE pinwheel_leases.epoch + 1 END,
                renewed_at = now(),
                duration_ms = EXCLUDED.duration_ms
            WHERE pinwheel_leases.holder = EXCLUDED.holder
               OR pinwheel_leases.renewed_at + pinwheel_leases.duration_ms * interval '1 millisecond' <= now()
            RETURNING environment, holder, epoch, renewed_at, duration_ms
            """)
    }

    /// Renews a lease `holder` holds under `epoch`, only while it has not expired: nil means it was lost (expired,
    /// or taken over) and the holder must stop acting.
    public func renew(_ environment: String, holder: String, epoch: Int64) async throws -> LeaseRecord? {
        try await lease("""
            UPDATE pinwheel_leases SET renewed_at = now()
            WHERE environment = \(environment) AND holder = \(holder) AND epoch = \(epoch)
              AND renewed_at + duration_ms * interval '1 millisecond' > now()
            RETURNING environment, holder, epoch, renewed_at, duration_ms
            """)
    }

    /// Gives a lease up, so another replica may take it at once (its epoch stays: the next holder raises it).
    public func release(_ environment: String, holder: String, epoch: Int64) async throws {
        try await execute("""
            UPDATE pinwheel_leases SET renewed_at = 'epoch'
            WHERE environment = \(environment) AND holder = \(holder) AND epoch = \(epoch)
            """)
    }

    /// Every lease, for `status`, the page and `/metrics`.
    public func leases() async throws -> [LeaseRecord] {
        try await leaseRows("SELECT environment, holder, epoch, renewed_at, duration_ms FROM pinwheel_leases ORDER BY environment")
    }

    // MARK: Statements

    private func lease(_ query: PostgresQuery) async throws -> LeaseRecord? {
        try await leaseRows(query).first
    }

    private func leaseRows(_ query: PostgresQuery) async throws -> [LeaseRecord] {
        try await run(query) { rows in
            var leases: [LeaseRecord] = []
            for try await (environment, holder, epoch, renewedAt, duration) in rows.decode((String, String, Int64, Date, Int64).self) {
                leases.append(LeaseRecord(environment: environment, holder: holder, epoch: epoch, renewedAt: renewedAt,
                                          duration: ConfigDuration(milliseconds: duration)))
            }
            return leases
        }
    }

    private func rows<Value: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: Value.Type) async throws -> [Value] {
        try await run(query) { rows in
            var values: [Value] = []
            for try await value in rows.decode(Value.self) { values.append(value) }
            return values
        }
    }

    private func execute(_ query: PostgresQuery) async throws {
        try await run(query) { rows in
            for try await _ in rows {}
        }
    }

    /// Runs `query` and reads its rows with `consume`, within ``statementTimeout``.
    private func run<Result: Sendable>(_ query: PostgresQuery,
                                       _ consume: @escaping @Sendable (PostgresRowSequence) async throws -> Result) async throws -> Result {
        let client = client
        let logger = logger
        do {
            return try await withDeadline { try await consume(try await client.query(query, logger: logger)) }
        } catch let error as PSQLError {
            throw Failure(description: Self.describe(error, store: settings.shown))
        }
    }

    /// `body`'s result, or a ``Failure`` when it takes longer than ``statementTimeout`` (it is cancelled).
    private func withDeadline<Result: Sendable>(_ body: @escaping @Sendable () async throws -> Result) async throws -> Result {
        let timeout = statementTimeout
        let store = settings.shown
        return try await withThrowingTaskGroup(of: Result.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw Failure(description: "the coordination store \(store) did not answer within \(timeout)")
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            return first
        }
    }

    /// A PostgreSQL error as a person can act on it: the server's message and code, or what failed on the way.
    static func describe(_ error: PSQLError, store: String) -> String {
        if let message = error.serverInfo?[.message] {
            let code = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return "the coordination store \(store) refused: \(Quote.excerpt(message, limit: 200))\(code)"
        }
        switch error.code {
        case .connectionError: return "cannot connect to the coordination store \(store)"
        case .serverClosedConnection, .uncleanShutdown: return "the coordination store \(store) closed the connection"
        default: return "the coordination store \(store) failed: \(error.code)"
        }
    }
}
