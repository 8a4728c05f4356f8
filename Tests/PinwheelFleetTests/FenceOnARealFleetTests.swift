import Foundation
import PinwheelCore
import PinwheelTestSupport
import Testing
@testable import PinwheelFleet

/// The hosts' fence against a real host: once a request with a lease epoch has acted, a request with a lower epoch
/// (a controller that lost its lease and woke up) is refused with `fenced`, and the host is left as it was.
@Suite("Fence on a real fleet", .serialized, .tags(.fleet))
struct FenceOnARealFleetTests {
    static let first = 168

    @Test func aLowerEpochCannotChangeAHost() async throws {
        let fleet = try await TestFleet.start(hosts: 1, first: Self.first)
        let environment = try fleet.environment()
        let host = environment.hosts[0]
        let transport = try #require(fleet.transports(for: environment)[host.name])
        var owner = HostAgent(target: environment.target(for: host), python: environment.python, transport: transport, commit: nil)
        owner.epoch = 2
        _ = try await owner.observe()
        let prepared = await owner.execute([.prepare(.a)])
        #expect(prepared.ok, "\(prepared)")

        var stale = owner
        stale.epoch = 1
        let refused = await stale.execute([.route(.a)])
        #expect(!refused.ok)
        #expect(refused.error?.code == .fenced, "\(String(describing: refused.error))")
        let observed = try await owner.observe()
        #expect(observed.routed == nil, "the stale owner's switch never happened")
        await #expect(throws: FleetError.self) { try await stale.observe() }

        var unfenced = owner
        unfenced.epoch = nil
        _ = try await unfenced.observe()  // a controller alone, an operator: not fenced
    }
}
