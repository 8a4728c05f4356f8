import ArgumentParser
import Foundation
import Logging
import Metrics
import PinwheelController
import PinwheelCore
import PinwheelFleet
import PinwheelGit
import PinwheelReleases
import PinwheelStatusPage
import PinwheelWebhooks
import Prometheus
import ServiceLifecycle

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the controller: make the fleet follow the config repository's branch.",
        discussion: """
            Keeps a bare cache clone of the repository (--cache, default ~/.cache/pinwheel/…), polls the branch \
            every --interval (a poll where nothing changed is one fetch), and reconciles every environment whose \
            desired state changed, by its policy: prepare, canary, batches, with the same engine as `apply`. Before \
            applying a commit it decides whether it may (admission: quarantine, history rewrite, signatures against \
            --allowed-signers and --openpgp-keys, promotion, deploy windows); a held commit is recorded as `waiting` \
            or `refused` with its reason. What it observed is committed to the status branch. Every --drift-interval \
            all hosts are observed; `drift: heal` reconciles what drifted. It survives what is outside it: an \
            unreachable remote (it keeps the last applied state and backs off), invalid commits, hosts that are \
            down.

            SIGTERM finishes the host steps under way and stops. Logs go to standard error, one logfmt line per \
            event (one JSON object per line with --log-format json). With --listen it serves push webhooks (GitHub, \
            GitLab, generic; the secret from --webhook-secret-env or --webhook-secret-file), /healthz, /metrics, the \
            JSON API and the status page. --notify sends every environment's events (rollout started, converged, \
            degraded, halted, reverted, refused, waiting for a window, drift, superseded) to a webhook or Slack, besides each \
            policy's notify:. ssh:// remotes authenticate with --git-identity or the SSH agent against \
            --git-known-hosts; https:// ones with the token in --git-token-env.

            With --coordination several controllers share the fleet through PostgreSQL: each environment is acted \
            on by one replica at a time, under a lease whose epoch every host request carries (the hosts refuse an \
            older one); a replica that stops or dies is taken over once its lease ends. Without it the controller \
            acts alone, as always.

            Under systemd ($NOTIFY_SOCKET, a Type=notify unit) it sends READY=1 once it has polled and listens, \
            WATCHDOG=1 from its poll loop (at half of WatchdogSec=; a stuck loop stops them), a one-line STATUS= and \
            STOPPING=1.
            """
    )

    @OptionGroup var remote: GitRemoteOptions

    @Option(help: "The branch people merge into.")
    var branch = "main"

    @OptionGroup var statusBranchOptions: StatusBranchOptions

    @Option(help: ArgumentHelp("How often to poll the branch.", valueName: "duration"))
    var interval = "5s"

    @Option(name: .customLong("drift-interval"), help: ArgumentHelp("How often to observe every host for drift.", valueName: "duration"))
    var driftInterval = "60s"

    @Option(name: .customLong("max-connections"),
            help: ArgumentHelp("The most round trips to hosts open at once, across every environment (default \(ControllerConfiguration.defaultMaxConnections)).",
                               valueName: "count"))
    var maxConnections = ControllerConfiguration.defaultMaxConnections

    @Flag(name: .customLong("one-shot-agents"),
          help: "Start a new agent process on a host for each round trip, instead of keeping one per host while watch runs.")
    var oneShotAgents = false

    @Option(help: ArgumentHelp("Where the cache clone lives (default ~/.cache/pinwheel/...).", valueName: "path"))
    var cache: String?

    @Option(name: .customLong("author"), help: ArgumentHelp("Who the controller's commits are by.", valueName: "name <email>"))
    var author = "Pinwheel <pinwheel@localhost>"

    @Option(help: ArgumentHelp("Serve push webhooks, /healthz, /metrics, the API and the status page here (an IP address and port on this machine).", valueName: "host:port"))
    var listen: String?

    @Option(name: .customLong("webhook-secret-env"), help: ArgumentHelp("Environment variable holding the webhooks' secret.", valueName: "name"))
    var webhookSecretEnvironment: String?

    @Option(name: .customLong("webhook-secret-file"), help: ArgumentHelp("File holding the webhooks' secret.", valueName: "path"))
    var webhookSecretFile: String?

    @Option(name: .customLong("access-token-env"),
            help: ArgumentHelp("Environment variable holding a token that the status page, the API and /metrics then ask for (Authorization: Bearer, or as a Basic password).", valueName: "name"))
    var accessTokenEnvironment: String?

    @Option(name: .customLong("access-token-file"),
            help: ArgumentHelp("File holding the token that the status page, the API and /metrics then ask for.", valueName: "path"))
    var accessTokenFile: String?

    @Flag(name: .customLong("allow-history-rewrite"),
          help: "Accept a new tip that does not descend from the last applied commit (a force-push or a rebase); refused otherwise.")
    var allowHistoryRewrite = false

    /// The keys the controller trusts, for policies with `verify: {signatures: required}`.
    @OptionGroup var trustedKeys: TrustedKeyOptions

    @OptionGroup var signatureRule: SignatureRuleOptions

    /// The controller's own key for its statuses, and the keys whose statuses it believes.
    @OptionGroup var statusKeys: StatusKeyOptions

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Option(name: .customLong("log-format"), help: "logfmt (one `key=value` line per event) or json (one JSON object per line).")
    var logFormat = "logfmt"

    @Option(name: .customLong("notify"),
            help: ArgumentHelp("A notification target for every environment (repeatable): webhook or slack, and where its URL is read: an environment variable or a file, never the URL itself.",
                               valueName: "slack=env:NAME|webhook=file:PATH"))
    var notify: [String] = []

    @Option(name: .customLong("status-url"),
            help: ArgumentHelp("The status page's address as people reach it, for the links in notifications (default http://<listen>).", valueName: "url"))
    var statusURL: String?

    @OptionGroup var localFiles: LocalFileOptions

    @OptionGroup var artifacts: ArtifactCacheOptions
    /// Where the policies' `analysis:` metrics are measured.
    @OptionGroup var prometheus: PrometheusOptions
    @OptionGroup(title: "Several controllers") var coordinationOptions: CoordinationOptions

    @Argument(help: ArgumentHelp("Environments to manage (all when none are named).", valueName: "env"))
    var environments: [String] = []

    func validate() throws {
        guard ConfigDuration(parsing: interval) != nil, ConfigDuration(parsing: driftInterval) != nil else {
            throw ExitError.usage("durations are written like 500ms, 5s, 1m")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ExitError.usage("unknown log level \(logLevel)") }
        guard (1...10_000).contains(maxConnections) else { throw ExitError.usage("--max-connections is a count from 1 to 10000") }
        guard ["logfmt", "json"].contains(logFormat) else { throw ExitError.usage("--log-format must be logfmt or json") }
        for flag in notify {
            do {
                _ = try NotifyTarget(flag: flag)
            } catch {
                throw ExitError.usage(error.description)
            }
        }
        if let statusURL, !(statusURL.hasPrefix("http://") || statusURL.hasPrefix("https://")) || statusURL.contains("@") {
            throw ExitError.usage("--status-url must be an http:// or https:// address without credentials")
        }
        guard parsedAuthor != nil else { throw ExitError.usage("--author must look like `Name <email>`") }
        _ = try webhookSecretSource
        _ = try accessTokenSource
        if listen == nil && (accessTokenEnvironment != nil || accessTokenFile != nil) {
            throw ExitError.usage("--access-token-env and --access-token-file guard what --listen serves: give --listen too")
        }
        if gitTokenEnvironment != nil, RemoteURL.isPlaintextToAnotherMachine(repo) {
            throw ExitError.usage("--git-token-env with \(RemoteURL.redacted(repo)): a token is never sent over plain http:// to another "
                                  + "machine; use the repository's https:// URL")
        }
        if let listen {
            do {
                _ = try ControlAddress(parsing: listen)
            } catch {
                throw ExitError.usage("--listen \(listen): \(error)")
            }
        }
    }

    private var parsedAuthor: (name: String, email: String)? {
        guard let open = author.firstIndex(of: "<"), author.hasSuffix(">") else { return nil }
        let name = author[..<open].trimmingCharacters(in: .whitespaces)
        let email = String(author[author.index(after: open)..<author.index(before: author.endIndex)])
        return name.isEmpty || email.isEmpty ? nil : (name, email)
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let json = logFormat == "json"
        LoggingSystem.bootstrap { label in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = LogfmtHandler(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "pinwheel.watch")
        let registry = Self.bootstrapMetrics()
        let processMetrics = ProcessMetrics()
        var configuration = ControllerConfiguration(
            repository: Self.absolute(repo),
            branch: branch,
            statusBranch: statusBranch,
            interval: ConfigDuration(parsing: interval)!.duration,
            driftInterval: ConfigDuration(parsing: driftInterval)!.duration,
            cacheDirectory: cache.map(Self.absolute),
            environments: environments,
            remote: RemoteOptions(credentials: credentials, knownHosts: gitKnownHosts, deadline: .seconds(30)),
            authorName: parsedAuthor!.name,
            authorEmail: parsedAuthor!.email,
            allowedIdentityFolders: localFiles.allowIdentityDir,
            allowHistoryRewrite: allowHistoryRewrite,
            allowedSigners: trustedKeys.trusted.allowedSigners,
            openPGPKeys: trustedKeys.trusted.openPGPKeys
        )
        configuration.requireSignatures = signatureRule.requireSignatures
        configuration.allowLocalHosts = localFiles.allowLocalHosts
        configuration.maxConnections = maxConnections
        configuration.statusSigningKey = statusKeys.signingKey
        configuration.trustedStatusKeys = statusKeys.trusted
        configuration.notify = notify.compactMap { try? NotifyTarget(flag: $0) }
        // Secrets are loaded before the controller starts: a missing one fails now, and the controller knows their
        // values to redact them from what the page and notifications show.
        let secret = try webhookSecretSource?.load()
        let accessToken = try accessTokenSource?.load()
        let prometheusClient = try prometheus.client()
        configuration.metricSource = prometheusClient
        configuration.knownSecrets = [secret, accessToken].compactMap { $0?.textForRedaction } + [prometheusClient?.bearerTokenForRedaction].compactMap { $0 }
            + [gitTokenEnvironment.flatMap { ProcessInfo.processInfo.environment[$0] }].compactMap { $0 }
        configuration.statusPage = (statusURL ?? listen.map { "http://\($0)" }).map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        // Under systemd (`Type=notify`): readiness, the watchdog and a status line over $NOTIFY_SOCKET.
        let coordinated = try await coordinationOptions.keeper(logger: Logger(label: "pinwheel.coordination"))
        configuration.knownSecrets += [coordinated?.password].compactMap { $0 }.filter { !$0.isEmpty }
        let systemd = SystemdNotifier(environment: ProcessInfo.processInfo.environment, waitsForListener: listen != nil)
        // One resident agent per SSH host while watch runs (as many at most as round trips may be open at once),
        // all ended when it stops.
        let resident = oneShotAgents ? nil : ResidentSessions(capacity: configuration.maxConnections)
        let agents = TransportAgentFactory(controlDirectory: configuration.controlDirectory, trust: configuration.localFileTrust,
                                           limit: ConnectionLimit(configuration.maxConnections), artifactCache: artifacts.cache,
                                           resident: resident)
        let controller = Controller(configuration: configuration, logger: logger, heartbeat: systemd?.heartbeat(), agents: agents,
                                    coordination: coordinated?.keeper)
        // The keeper first: a graceful stop ends the services in reverse order, so the controller's steps finish
        // before the leases are released.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = coordinated.map { [.init(service: CoordinationService(keeper: $0.keeper))] } ?? []
        services.append(.init(service: ControllerService(controller: controller)))
        if let listen {
            let page: StatusPage
            do {
                page = try StatusPage()
            } catch {
                throw ExitError.usage("the status page's template does not parse (a broken build): \(error)")
            }
            let server = ControlServer(
                address: try ControlAddress(parsing: listen), secret: secret, accessToken: accessToken, logger: Logger(label: "pinwheel.control"),
                onPush: { event in controller.trigger(event.reason) },
                health: {
                    let health = await controller.health()
                    return HealthReport(status: health.status, lastPoll: health.lastPoll.map { Timestamp.string(from: $0) },
                                        lastError: health.lastError.map { RemoteURL.redacted($0) }, environments: health.environments)
                },
                metrics: {
                    processMetrics.update()
                    var exposition: [UInt8] = []
                    registry.emit(into: &exposition)
                    return exposition
                },
                environments: EnvironmentsEndpoint(
                    all: { Self.json(StatusList(environments: await controller.overview())) },
                    one: { name in await controller.overview(of: name).map(Self.json) }
                ),
                page: { page.html(await controller.overview()) },
                targets: { Self.json(await controller.scrapeTargets()) })
            services.append(.init(service: server))
            if let systemd {
                Task {
                    guard (try? await server.listeningPort()) != nil else { return }
                    systemd.listening(status: await controller.health().summary())
                }
            }
        }
        let group = ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        do {
            try await group.run()
        } catch {
            await resident?.closeAll()
            throw error
        }
        await resident?.closeAll()
    }

    /// `/api/v1/environments`: every environment's last status, rollout under way and recent history.
    struct StatusList: Encodable {
        var environments: [EnvironmentOverview]
    }

    /// JSON as the API answers it: keys sorted, a newline at the end.
    static func json(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ((try? encoder.encode(value)).map(Array.init) ?? Array(#"{"error":"cannot encode the status"}"#.utf8)) + [UInt8(ascii: "\n")]
    }

    /// The process's metrics system: a Prometheus registry, which `/metrics` serves. Only the executable bootstraps it.
    private static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [
            ControllerMetrics.Name.reconcileDuration: ControllerMetrics.reconcileDurationBuckets,
            ControllerMetrics.Name.pollDuration: ControllerMetrics.pollDurationBuckets,
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }

    /// Paths become absolute (the cache is keyed by them); URLs stay as they are.
    static func absolute(_ location: String) -> String {
        if location.contains("://") || location.hasPrefix("/") { return location }
        return URL(fileURLWithPath: location).standardizedFileURL.path
    }
}
