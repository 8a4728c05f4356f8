// swift-tools-version: 6.1
import PackageDescription

/// SystemPackage where Subprocess uses it (Linux and the like); Apple platforms import System from the SDK.
let systemPackage: Target.Dependency = .product(
    name: "SystemPackage",
    package: "swift-system",
    condition: .when(platforms: [.linux, .windows, .android, .wasi, .openbsd])
)

let package = Package(
    name: "Pinwheel",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pinwheel", targets: ["pinwheel"]),
        .library(name: "PinwheelCore", targets: ["PinwheelCore"]),
        .library(name: "PinwheelGit", targets: ["PinwheelGit"]),
        .library(name: "PinwheelWebhooks", targets: ["PinwheelWebhooks"]),
        .library(name: "PinwheelConfig", targets: ["PinwheelConfig"]),
        .library(name: "PinwheelReleases", targets: ["PinwheelReleases"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        // No default traits: the control server needs neither swift-configuration nor full Foundation,
        // and leaving them out keeps the build shorter.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        // SystemPackage (FilePath for Subprocess) on Linux; Apple platforms have System.
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        // Metrics: libraries record through swift-metrics; `watch` exports them in the Prometheus format.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The status page's templates, rendered on the server (no JavaScript build).
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // Leases and heartbeats for several controllers (`watch --coordination postgres://…`).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // The controller's few HTTP requests (an index page, a Prometheus query, a notification) without
        // FoundationNetworking, which loads libcurl and its TLS and Kerberos libraries into every process.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
    ],
    targets: [
        // libgit2 from the system (Debian: libgit2-dev 1.5.1).
        .systemLibrary(
            name: "CGit2",
            pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]
        ),
        // C helpers for PinwheelGit: a deadline-aware socket stream registered with libgit2.
        .target(
            name: "CGit2Shims",
            dependencies: ["CGit2"]
        ),
        // A small, safe Swift API over libgit2: the only module that talks to git.
        .target(
            name: "PinwheelGit",
            dependencies: [
                "CGit2",
                "CGit2Shims",
                // HMAC-SHA1 for hashed known_hosts entries.
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The pure model: config format, validation, desired state, diff. No I/O: it reads the config only
        // through the ConfigSource it is handed.
        .target(
            name: "PinwheelCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                // SHA-256 for slot fingerprints and content names.
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Where the config is read from: a folder on disk, or a commit through libgit2.
        .target(
            name: "PinwheelConfig",
            dependencies: ["PinwheelCore", "PinwheelGit"]
        ),
        // The git-side operations as a library: release, rollback, history, recorded status, revert messages.
        // Signature checks run ssh-keygen and gpgv through PinwheelProcess: it links no SSH transport.
        .target(
            name: "PinwheelReleases",
            dependencies: ["PinwheelCore", "PinwheelGit", "PinwheelConfig", "PinwheelProcess"]
        ),
        // Running a local program with input, a deadline and its output (ssh, ssh-keygen, gpgv, a local Python).
        .target(
            name: "PinwheelProcess",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess"),
                systemPackage,
            ]
        ),
        // The fleet side: the host agent and the SSH and local transports that reach hosts.
        .target(
            name: "PinwheelFleet",
            dependencies: [
                "PinwheelCore",
                "PinwheelHTTP",
                "PinwheelProcess",
                // A resident agent's session: a long-lived ssh client written to and read from while it runs.
                .product(name: "Subprocess", package: "swift-subprocess"),
                systemPackage,
            ],
            // The host agent's modules, joined into one program text by `AgentScript` (in its order), the resident agent's loop (`ResidentScript`), and the doctor.
            resources: [
                .embedInCode("Agent/agent_wire.py"),
                .embedInCode("Agent/agent_system.py"),
                .embedInCode("Agent/agent_commands.py"),
                .embedInCode("Agent/agent_request.py"),
                .embedInCode("Agent/agent_deployment.py"),
                .embedInCode("Agent/agent_artifacts.py"),
                .embedInCode("Agent/agent_supervisor.py"),
                .embedInCode("Agent/agent_programs.py"),
                .embedInCode("Agent/agent_hooks.py"),
                .embedInCode("Agent/agent_logs.py"),
                .embedInCode("Agent/agent_routing.py"),
                .embedInCode("Agent/agent_health.py"),
                .embedInCode("Agent/agent_bytecode.py"),
                .embedInCode("Agent/agent_building.py"),
                .embedInCode("Agent/agent_lock.py"),
                .embedInCode("Agent/pinwheel_agent.py"),
                .embedInCode("Agent/pinwheel_resident.py"),
                .embedInCode("Doctor/pinwheel_doctor.py"),
            ]
        ),
        // The controller's HTTP client (index pages, Prometheus queries, notifications): an edge, over AsyncHTTPClient.
        .target(
            name: "PinwheelHTTP",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The engine behind `apply`, `watch` and `plan`: observes hosts, plans, and carries the rollout machine's
        // decisions out on them through host agents; it knows no transport.
        .target(
            name: "PinwheelEngine",
            dependencies: ["PinwheelCore", "PinwheelFleet"]
        ),
        // The controller: watches the config repository, rolls out by policy, commits status back.
        .target(
            name: "PinwheelController",
            dependencies: [
                "CMalloc",
                "PinwheelCore",
                "PinwheelConfig",
                "PinwheelCoordination",
                "PinwheelEngine",
                "PinwheelFleet",
                "PinwheelGit",
                "PinwheelHTTP",
                "PinwheelReleases",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // Several controllers sharing a fleet: leases with epochs and replica heartbeats in PostgreSQL.
        .target(
            name: "PinwheelCoordination",
            dependencies: [
                "PinwheelCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "PinwheelCoordinationTests", dependencies: ["PinwheelCoordination", "PinwheelCore", "PinwheelTestSupport",
                                                                      .product(name: "Logging", package: "swift-log")]),
        // The controller's HTTP control endpoint: push webhooks (GitHub, GitLab, generic) and /healthz.
        // Depends on no other Pinwheel module, so any of them could depend on it.
        .target(
            name: "PinwheelWebhooks",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                // The HTTP/1 channel's idle timeout and the connection cap.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                // HMAC-SHA256 signatures and constant-time token comparison.
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The status page (`GET /` on the control server): the controller's overview rendered as HTML from a
        // Mustache template embedded in the binary.
        .target(
            name: "PinwheelStatusPage",
            dependencies: [
                "PinwheelController",
                "PinwheelCore",
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.embedInCode("status.mustache")]
        ),
        // The command-line tool. VERSION (a link to the repository's, the one place the version is written) is
        // embedded for `--version`.
        .executableTarget(
            name: "pinwheel",
            dependencies: [
                "CMalloc",
                "PinwheelCore",
                "PinwheelConfig",
                "PinwheelGit",
                "PinwheelEngine",
                "PinwheelFleet",
                "PinwheelReleases",
                // Only `watch` needs the controller and its HTTP endpoint, and the coordination store.
                "PinwheelController",
                "PinwheelCoordination",
                "PinwheelWebhooks",
                "PinwheelStatusPage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // Only the executable bootstraps the metrics system, with a Prometheus registry.
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            resources: [.embedInCode("VERSION")],
            // RELR relocations (lld's packed relative relocations): the table the loader reads at every start is a
            // few kilobytes instead of 1.5 MB, which stayed resident in every controller.
            linkerSettings: [.unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"], .when(platforms: [.linux]))]
        ),
        // Fixtures/ holds real lock files written by uv, read by the tests from their source folder.
        .testTarget(name: "PinwheelCoreTests", dependencies: ["PinwheelCore"], exclude: ["Fixtures"]),
        .testTarget(name: "PinwheelGitTests", dependencies: ["PinwheelGit"]),
        .testTarget(
            name: "PinwheelHTTPTests",
            dependencies: [
                "PinwheelHTTP", "PinwheelTestSupport",
                // A real HTTP server to ask.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Helpers the test targets share: a real loopback fleet, temporary folders, running commands.
        .target(
            name: "PinwheelTestSupport",
            dependencies: [
                "PinwheelCore",
                "PinwheelConfig",
                "PinwheelEngine",
                "PinwheelFleet",
                "PinwheelProcess",
                "PinwheelGit",
                .product(name: "Subprocess", package: "swift-subprocess"),
                systemPackage,
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "PinwheelControllerTests",
            dependencies: [
                "PinwheelController", "PinwheelCoordination", "PinwheelCore", "PinwheelGit", "PinwheelTestSupport",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // A real HTTP server that receives the controller's notifications.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                // The control server whose push webhook wakes the controller, as `watch` runs it.
                "PinwheelWebhooks",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // What real fleets do to a rollout (sshd down, killed or frozen, broken nginx, missing versions, two runs at
        // once), each against the invariant that no host serves an unhealthy or half-built slot.
        .testTarget(
            name: "PinwheelFaultTests",
            dependencies: ["PinwheelController", "PinwheelCore", "PinwheelEngine", "PinwheelFleet", "PinwheelGit",
                           "PinwheelTestSupport"]
        ),
        .testTarget(name: "PinwheelFleetTests", dependencies: ["PinwheelFleet", "PinwheelEngine", "PinwheelCore", "PinwheelTestSupport"]),
        .testTarget(
            name: "PinwheelWebhooksTests",
            dependencies: [
                "PinwheelWebhooks",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "PinwheelStatusPageTests",
            dependencies: ["PinwheelStatusPage", "PinwheelController", "PinwheelCore", "PinwheelEngine", "PinwheelFleet"]
        ),
        // A controller driven through hundreds of polls and commits in a process of its own, so the allocator's
        // statistics and the open descriptors are its alone.
        .testTarget(
            name: "PinwheelLeakTests",
            dependencies: ["PinwheelController", "PinwheelCore", "PinwheelTestSupport", "CMalloc",
                           .product(name: "Logging", package: "swift-log")]
        ),
        // The C allocator's statistics and trimming (glibc's mallinfo2 and malloc_trim): the leak tests read them, the
        // controller gives free memory back after each reconcile.
        .target(name: "CMalloc"),
        // The controller too: one suite runs its admission and `pinwheel apply` against the same repositories. The
        // executable itself for its terminal rendering (progress lines).
        .testTarget(
            name: "PinwheelCLITests",
            dependencies: ["pinwheel", "PinwheelGit", "PinwheelConfig", "PinwheelCore", "PinwheelEngine", "PinwheelFleet",
                           "PinwheelTestSupport", "PinwheelController", "PinwheelWebhooks"]
        ),
        // The command-line suites that start heavy processes, each target in a process of its own under scripts/test so
        // that a loaded two-core machine does not run them beside each other: canary analysis against a real Prometheus,
        .testTarget(
            name: "PinwheelAnalysisTests",
            dependencies: ["PinwheelController", "PinwheelCore", "PinwheelTestSupport"]
        ),
        // several `watch` replicas and `apply` sharing a real PostgreSQL,
        .testTarget(
            name: "PinwheelReplicaTests",
            dependencies: ["PinwheelCoordination", "PinwheelCore", "PinwheelTestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        // `pinwheel watch` as a process (signals, systemd's notify protocol, the status page in a browser),
        .testTarget(name: "PinwheelWatchProcessTests", dependencies: ["PinwheelFleet", "PinwheelTestSupport"]),
        // and the Debian package (a release build when PINWHEEL_PACKAGE does not name one).
        .testTarget(name: "PinwheelDebianPackageTests", dependencies: ["PinwheelTestSupport"]),
        .testTarget(name: "PinwheelReleasesTests", dependencies: ["PinwheelReleases", "PinwheelConfig", "PinwheelCore", "PinwheelGit", "PinwheelTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
