import Foundation
import Testing
@testable import PinwheelCore

@Suite("Deploy windows")
struct DeployWindowsTests {
    /// `2026-03-27T15:00:00Z`-style times, read as UTC.
    static func at(_ text: String) -> Date {
        ISO8601DateFormatter().date(from: text)!
    }

    static func time(_ text: String) -> DeployWindows.TimeOfDay {
        DeployWindows.TimeOfDay(parsing: text)!
    }

    /// No releases on Friday, Saturday and Sunday evenings, each until 08:00 the next morning, Berlin time (the
    /// day-time hours of Saturday and Sunday are open: each rule belongs to the day it starts).
    let weekend = DeployWindows(rules: [
        .init(.deny, days: [.fri, .sat, .sun], from: time("16:00"), to: time("08:00"), zone: "Europe/Berlin"),
    ])

    @Test func aDenyWindowHoldsAndOpensWhenItEnds() {
        // Friday 2026-11-20 15:59 CET (UTC+1) is open; 16:00 is not.
        #expect(weekend.decision(at: Self.at("2026-11-20T14:59:00Z"), rollback: false) == .open)
        let decision = weekend.decision(at: Self.at("2026-11-20T15:00:00Z"), rollback: false)
        #expect(decision == .waiting(rule: "deny fri,sat,sun 16:00-08:00 Europe/Berlin", opensAt: Self.at("2026-11-21T07:00:00Z")))
        // Saturday 12:00 is open; Sunday 04:00 is held by Saturday's rule across midnight.
        #expect(weekend.decision(at: Self.at("2026-11-21T11:00:00Z"), rollback: false) == .open)
        #expect(weekend.decision(at: Self.at("2026-11-22T03:00:00Z"), rollback: false)
            == .waiting(rule: "deny fri,sat,sun 16:00-08:00 Europe/Berlin", opensAt: Self.at("2026-11-22T07:00:00Z")))
        // Monday 07:59 is the Sunday rule's last minute; 08:00 is open.
        #expect(weekend.decision(at: Self.at("2026-11-23T06:59:00Z"), rollback: false) != .open)
        #expect(weekend.decision(at: Self.at("2026-11-23T07:00:00Z"), rollback: false) == .open)
        // Thursday night is open: the rule starts on the days it names.
        #expect(weekend.decision(at: Self.at("2026-11-19T23:30:00Z"), rollback: false) == .open)
    }

    @Test func aWindowAcrossMidnightBelongsToTheDayItStarts() {
        let nights = DeployWindows(rules: [.init(.deny, days: [.mon], from: Self.time("22:00"), to: Self.time("02:00"), zone: "UTC")])
        // Monday 2026-11-23 23:00 and Tuesday 01:00 are held; Monday 01:00 (Sunday's night) is not.
        #expect(nights.decision(at: Self.at("2026-11-23T23:00:00Z"), rollback: false)
            == .waiting(rule: "deny mon 22:00-02:00 UTC", opensAt: Self.at("2026-11-24T02:00:00Z")))
        #expect(nights.decision(at: Self.at("2026-11-24T01:59:00Z"), rollback: false) != .open)
        #expect(nights.decision(at: Self.at("2026-11-24T02:00:00Z"), rollback: false) == .open)
        #expect(nights.decision(at: Self.at("2026-11-23T01:00:00Z"), rollback: false) == .open)
    }

    @Test func aWindowAcrossTheChangeToSummerTime() {
        // Berlin moves from UTC+1 to UTC+2 at 02:00 on Sunday 2026-03-29. Saturday's window starts at 16:00 local,
        // 15:00Z in winter time, and ends Sunday 08:00 local, which is 06:00Z in summer time.
        #expect(weekend.decision(at: Self.at("2026-03-28T14:59:00Z"), rollback: false) == .open)
        #expect(weekend.decision(at: Self.at("2026-03-28T15:00:00Z"), rollback: false)
            == .waiting(rule: "deny fri,sat,sun 16:00-08:00 Europe/Berlin", opensAt: Self.at("2026-03-29T06:00:00Z")))
        #expect(weekend.decision(at: Self.at("2026-03-29T05:59:00Z"), rollback: false) != .open)
        // A window inside the skipped hour: 01:30 to 02:30 local on the day of the change is 00:30Z to 01:00Z, when
        // the clock jumps to 03:00.
        let skipped = DeployWindows(rules: [.init(.deny, days: [.sun], from: Self.time("01:30"), to: Self.time("02:30"), zone: "Europe/Berlin")])
        #expect(skipped.decision(at: Self.at("2026-03-29T00:45:00Z"), rollback: false)
            == .waiting(rule: "deny sun 01:30-02:30 Europe/Berlin", opensAt: Self.at("2026-03-29T01:00:00Z")))
    }

    @Test func aWindowAcrossTheChangeBackToWinterTime() {
        // Berlin moves from UTC+2 back to UTC+1 at 03:00 on Sunday 2026-10-25: Saturday's window that starts at
        // 16:00 CEST (14:00Z) ends Sunday 08:00 CET (07:00Z), an hour longer than on other nights.
        #expect(weekend.decision(at: Self.at("2026-10-24T13:59:00Z"), rollback: false) == .open)
        #expect(weekend.decision(at: Self.at("2026-10-24T14:00:00Z"), rollback: false)
            == .waiting(rule: "deny fri,sat,sun 16:00-08:00 Europe/Berlin", opensAt: Self.at("2026-10-25T07:00:00Z")))
        #expect(weekend.decision(at: Self.at("2026-10-25T06:59:00Z"), rollback: false) != .open)
    }

    @Test func allowRulesOnlyOpenWhatTheyName() {
        let office = DeployWindows(rules: [
            .init(.allow, days: [.mon, .tue, .wed, .thu], from: Self.time("09:00"), to: Self.time("17:00"), zone: "Europe/Berlin"),
        ])
        // Thursday 2026-11-19 10:00 CET is open; 17:00 is not, and it opens Monday 09:00 CET.
        #expect(office.decision(at: Self.at("2026-11-19T09:00:00Z"), rollback: false) == .open)
        #expect(office.decision(at: Self.at("2026-11-19T16:00:00Z"), rollback: false)
            == .waiting(rule: "outside allow mon,tue,wed,thu 09:00-17:00 Europe/Berlin", opensAt: Self.at("2026-11-23T08:00:00Z")))
        // A deny rule inside an allow window wins.
        var lunch = office
        lunch.rules.append(.init(.deny, from: Self.time("12:00"), to: Self.time("13:00"), zone: "Europe/Berlin"))
        #expect(lunch.decision(at: Self.at("2026-11-19T11:30:00Z"), rollback: false)
            == .waiting(rule: "deny every day 12:00-13:00 Europe/Berlin", opensAt: Self.at("2026-11-19T12:00:00Z")))
    }

    @Test func aFreezeHasNoOpening() {
        let frozen = DeployWindows(freeze: "year-end audit")
        let now = Self.at("2026-12-20T10:00:00Z")
        #expect(frozen.decision(at: now, rollback: false) == .waiting(rule: "freeze: year-end audit", opensAt: nil))
        #expect(DeployWindows.message(rule: "freeze: year-end audit", opensAt: nil, freeze: "year-end audit") == "frozen: year-end audit")
        #expect(frozen.decision(at: now, rollback: true) == .open, "rollbacks are allowed by default")
        var strict = frozen
        strict.rollbacks = .windows
        #expect(strict.decision(at: now, rollback: true) != .open)
    }

    @Test func rollbacksPassADenyWindowUnlessThePolicySaysWindows() {
        let friday = Self.at("2026-11-20T18:00:00Z")
        #expect(weekend.decision(at: friday, rollback: true) == .open)
        var strict = weekend
        strict.rollbacks = .windows
        #expect(strict.decision(at: friday, rollback: true)
            == .waiting(rule: "deny fri,sat,sun 16:00-08:00 Europe/Berlin", opensAt: Self.at("2026-11-21T07:00:00Z")))
    }

    @Test func nothingOpensWithinTheHorizon() {
        let never = DeployWindows(rules: [.init(.deny, from: Self.time("00:00"), to: Self.time("00:00"), zone: "UTC")])
        let now = Self.at("2026-11-20T18:00:00Z")
        #expect(never.decision(at: now, rollback: false) == .waiting(rule: "deny every day 00:00-00:00 UTC", opensAt: nil))
        #expect(DeployWindows.message(rule: "r", opensAt: Self.at("2026-11-23T07:00:00Z"), freeze: nil)
            == "waiting for the window at 2026-11-23T07:00:00Z (r)")
    }

    @Test func thePolicyFileSaysIt() throws {
        var files = Fixture.files
        files[Fixture.policyPath] = Fixture.policy + """
            windows:
              - deny: {days: [fri, sat, sun], from: "16:00", to: "08:00", zone: Europe/Berlin}
              - allow: {from: "06:00", to: "20:00", zone: UTC}
            freeze: {reason: "year-end audit"}
            rollbacks: windows

            """
        let environment = try ConfigLoader(source: InMemorySource(files)).environment("prod")
        let windows = environment.policy.windows
        #expect(windows.rules == [
            .init(.deny, days: [.fri, .sat, .sun], from: Self.time("16:00"), to: Self.time("08:00"), zone: "Europe/Berlin"),
            .init(.allow, from: Self.time("06:00"), to: Self.time("20:00"), zone: "UTC"),
        ])
        #expect(windows.freeze == "year-end audit")
        #expect(windows.rollbacks == .windows)
        #expect(try ConfigLoader(source: InMemorySource(Fixture.files)).environment("prod").policy.windows == DeployWindows())
    }
}

@Suite("Rollbacks")
struct RollbackDetectionTests {
    func environment(active: Slot, a: String, b: String) throws -> Environment {
        var files = Fixture.files
        files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(of: "active: A", with: "active: \(active)")
        files[Fixture.slotAPath] = "hello-service==\(a)\n"
        files[Fixture.slotBPath] = "hello-service==\(b)\n"
        return try ConfigLoader(source: InMemorySource(files)).environment("prod")
    }

    @Test func aSwitchBackToTheWarmSlotIsARollback() throws {
        let released = try environment(active: .b, a: "1.0.0", b: "1.1.0")
        let reverted = try environment(active: .a, a: "1.0.0", b: "1.0.0")
        #expect(reverted.isRollback(from: released))
    }

    @Test func aReleaseIsNotARollback() throws {
        let first = try environment(active: .a, a: "1.0.0", b: "1.0.0")
        let release = try environment(active: .b, a: "1.0.0", b: "1.1.0")
        #expect(!release.isRollback(from: first), "slot B's build changes")
        #expect(!first.isRollback(from: first), "nothing switches")
        let flipOnly = try environment(active: .b, a: "1.0.0", b: "1.0.0")
        #expect(flipOnly.isRollback(from: first), "B was warm with exactly these pins")
        let newA = try environment(active: .a, a: "2.0.0", b: "1.1.0")
        #expect(!newA.isRollback(from: release), "A is not the build that was warm")
    }

    @Test func aHostThatWasNotThereBeforeIsNoRollback() throws {
        let released = try environment(active: .b, a: "1.0.0", b: "1.1.0")
        var reverted = try environment(active: .a, a: "1.0.0", b: "1.0.0")
        reverted.hosts[0].name = "web-09"
        #expect(!reverted.isRollback(from: released))
    }
}
