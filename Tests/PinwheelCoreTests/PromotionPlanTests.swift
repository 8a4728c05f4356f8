import Testing
@testable import PinwheelCore

@Suite("Promotion plans")
struct PromotionPlanTests {
    /// prod (active A: hello-service 1.0.0, click 8.1.7) and a staging copy whose active slot B pins hello-service 1.1.0.
    static func environments() throws -> (prod: Environment, staging: Environment) {
        let prod = try #require(try Fixture.load(Fixture.files).environments["prod"])
        var staging = prod
        staging.name = "staging"
        staging.active = .b
        return (prod, staging)
    }

    @Test func theIdleSlotGetsTheSourcesActivePinsAndBecomesActive() throws {
        let (prod, staging) = try Self.environments()
        let plan = try ReleasePlan.promote(prod, environmentText: Fixture.environment, from: staging)
        #expect(plan.slot == .b)
        let slotFile = try #require(plan.files[Fixture.slotBPath])
        #expect(slotFile == "# Slot B of prod: the pins of staging's slot B (written by pinwheel promote).\nclick==8.1.7\nhello-service==1.1.0\n")
        #expect(plan.files[Fixture.environmentPath] == Fixture.environment.replacingOccurrences(of: "active: A", with: "active: B"))
        #expect(plan.changes == [ReleasePlan.Change(name: "hello-service", version: "1.1.0")])
        #expect(ReleasePlan.promotionMessage(environment: "prod", source: "staging", changes: plan.changes, diff: ["active: A → B"])
            == "prod: promote from staging: hello-service 1.1.0\n\nactive: A → B\n")
    }

    @Test func itRefusesWhatCouldNeverBePromoted() throws {
        let (prod, staging) = try Self.environments()
        var samePins = staging
        samePins.active = .a
        #expect(throws: ReleaseError.self) { try ReleasePlan.promote(prod, environmentText: Fixture.environment, from: samePins) }
        var otherPython = staging
        otherPython.python = "/usr/bin/python3.12"
        #expect {
            try ReleasePlan.promote(prod, environmentText: Fixture.environment, from: otherPython)
        } throws: { ($0 as? ReleaseError)?.message.contains("builds slot B with python /usr/bin/python3.12") == true }
        // A slot of its own python counts, not the environment's.
        var slotPython = staging
        slotPython.slots[.b].python = "/usr/bin/python3.12"
        #expect(throws: ReleaseError.self) { try ReleasePlan.promote(prod, environmentText: Fixture.environment, from: slotPython) }
        #expect(throws: ReleaseError.self) { try ReleasePlan.promote(prod, environmentText: Fixture.environment, from: prod) }
        #expect(throws: ReleaseError.self) { try ReleasePlan.promote(prod, environmentText: "app: hello\n", from: staging) }
    }
}
