import Foundation
import Testing
@testable import PinwheelCore

/// The pure parts of running several controllers: lease timings, a holder's deadline on a fake clock, rendezvous
/// assignment, and the hosts' fence.
@Suite("Coordination")
struct CoordinationTests {
    @Test func theRecommendedTimingsAreSafe() {
        #expect(LeaseTiming.recommended.problem == nil)
    }

    @Test(arguments: [
        (15, 15, 2, "renew deadline"), (15, 14, 2, "renew deadline"), (15, 10, 6, "retry period"),
    ])
    func unsafeTimingsAreRefused(_ duration: Int64, _ deadline: Int64, _ retry: Int64, _ word: String) {
        let timing = LeaseTiming(duration: .seconds(duration), renewDeadline: .seconds(deadline), retryPeriod: .seconds(retry))
        #expect(timing.problem?.contains(word) == true, "\(timing.problem ?? "accepted")")
    }

    @Test func aHolderStopsActingAtItsRenewDeadline() {
        var holding = LeaseHolding(environment: "production", epoch: 3, timing: .recommended, acquiredAt: 100)
        #expect(holding.mayAct(at: 100) && holding.mayAct(at: 109.9))
        #expect(!holding.mayAct(at: 110), "10 s without a renewal: stop, 5 s before the lease can end elsewhere")
        #expect(holding.renewsAt == 102)
        let renewed = holding.renewed(sentAt: 108, epoch: 3)
        #expect(renewed)
        #expect(holding.mayAct(at: 117.9) && !holding.mayAct(at: 118), "counted from when the renewal was sent")
        let late = holding.renewed(sentAt: 104, epoch: 3)
        #expect(late && holding.actsUntil == 118, "a late answer to an older renewal moves nothing back")
        let lost = holding.renewed(sentAt: 112, epoch: 4)
        #expect(!lost, "another epoch: the lease was lost in between")
    }

    @Test func theHolderStopsBeforeTheLeaseCanEndElsewhere() {
        // Whenever the renewal was granted (no earlier than sent), the holder's deadline comes first.
        let timing = LeaseTiming.recommended
        for sent in stride(from: 0.0, through: 50, by: 0.5) {
            let holding = LeaseHolding(environment: "e", epoch: 1, timing: timing, acquiredAt: sent)
            let grantedAtTheEarliest = sent
            #expect(holding.actsUntil < grantedAtTheEarliest + timing.duration.seconds)
        }
    }

    static let replicas = ["controller-a", "controller-b", "controller-c"]
    static let environments = (1...200).map { "service-\($0)-production" }

    @Test func everyEnvironmentHasOneOwnerAndTheLoadIsSpread() {
        let owners = Rendezvous.assignment(of: Self.environments, among: Self.replicas)
        #expect(owners.count == Self.environments.count)
        let counts = Dictionary(grouping: owners.values, by: { $0 }).mapValues(\.count)
        #expect(Set(counts.keys) == Set(Self.replicas))
        #expect(counts.values.allSatisfy { $0 > 40 }, "roughly a third each: \(counts)")
        #expect(Rendezvous.owner(of: "x", among: [String]()) == nil)
    }

    @Test func theAnswerDoesNotDependOnTheListsOrder() {
        for environment in Self.environments.prefix(50) {
            #expect(Rendezvous.owner(of: environment, among: Self.replicas)
                == Rendezvous.owner(of: environment, among: Self.replicas.reversed()))
        }
    }

    @Test func losingAReplicaMovesOnlyItsEnvironments() {
        let before = Rendezvous.assignment(of: Self.environments, among: Self.replicas)
        let after = Rendezvous.assignment(of: Self.environments, among: ["controller-a", "controller-c"])
        for environment in Self.environments where before[environment] != "controller-b" {
            #expect(after[environment] == before[environment], "\(environment) moved although its owner stayed")
        }
        #expect(!after.values.contains("controller-b"))
    }

    @Test func addingAReplicaTakesOnlyWhatItGains() {
        let before = Rendezvous.assignment(of: Self.environments, among: Self.replicas)
        let after = Rendezvous.assignment(of: Self.environments, among: Self.replicas + ["controller-d"])
        let moved = Self.environments.filter { before[$0] != after[$0] }
        #expect(!moved.isEmpty)
        #expect(moved.allSatisfy { after[$0] == "controller-d" }, "every move is to the new replica")
    }

    @Test func theFenceRefusesOlderEpochs() {
        var fence = Fence()
        let decisions = [1, 1, 3, 2].map { fence.admit($0) }
        #expect(decisions == [.admit, .admit, .admit, .refuse(seen: 3)], "the same owner again is admitted; the old owner that woke up is not")
        #expect(fence.highest == 3)
    }
}
