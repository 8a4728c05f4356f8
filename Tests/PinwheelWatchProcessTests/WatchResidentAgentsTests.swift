import Foundation
import PinwheelTestSupport
import Testing

/// `pinwheel watch` keeps one resident agent per host while it runs and leaves none behind when it stops; with
/// `--one-shot-agents` it keeps none.
@Suite("pinwheel watch's resident agents", .serialized, .tags(.fleet))
struct WatchResidentAgentsTests {
    static let first = 118

    @Test func oneAgentPerHostWhileWatchRunsAndNoneAfterItStops() async throws {
        let fleet = try await TestFleet.start(hosts: 2, first: Self.first)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let watcher = try WatchProcess(remote: config.remote, allow: fleet.directory, cache: "\(fleet.directory)/cache",
                                                    log: "\(fleet.directory)/watch.log")
        try await watcher.waitFor(.statusCommitted, timeout: .seconds(90))
        _ = try await fleet.waitUntilServing("hello-service 1.0.0")
        #expect(fleet.residentAgents().count == 2, "one agent process per host: \(fleet.residentAgents())")
        let clients = TestFleet.children(of: watcher.process.processIdentifier)
        #expect(clients.count == 2, "one ssh client per host: \(clients)")

        watcher.signal(SIGTERM)
        watcher.process.waitUntilExit()
        #expect(watcher.process.terminationStatus == 0, "\(watcher.text)")
        #expect(await eventually { fleet.residentAgents().isEmpty }, "no agent is left on a host")
        #expect(clients.allSatisfy { kill($0, 0) != 0 }, "no ssh client is left")

        let oneShot = try WatchProcess(remote: config.remote, allow: fleet.directory, cache: "\(fleet.directory)/cache",
                                                    log: "\(fleet.directory)/one-shot.log", extra: ["--one-shot-agents"])
        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        try await config.commitAndPush("fleet: release 1.1.0")
        _ = try await fleet.waitUntilServing("hello-service 1.1.0", timeout: .seconds(120))
        #expect(fleet.residentAgents().isEmpty, "--one-shot-agents keeps none")
        oneShot.signal(SIGTERM)
        oneShot.process.waitUntilExit()
        #expect(oneShot.process.terminationStatus == 0, "\(oneShot.text)")
    }
}
