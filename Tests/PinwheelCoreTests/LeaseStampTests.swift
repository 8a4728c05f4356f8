import Foundation
import Testing
@testable import PinwheelCore

/// With several controllers, each status says which replica recorded it under which lease epoch, in the file and in
/// the commit's trailers; a controller running alone writes exactly what it wrote before.
@Suite("Lease stamps in the status")
struct LeaseStampTests {
    static func status(owner: LeaseStamp?) -> EnvironmentStatus {
        var status = EnvironmentStatus(environment: "production", desired: String(repeating: "c", count: 40), result: .converged,
                                       message: "every host serves slot B", time: "2026-12-07T03:00:00Z", active: .b,
                                       pins: ["hello-service==1.1.0"], hosts: [:])
        status.owner = owner
        return status
    }

    @Test func theOwnerTravelsInTheFileAndTheTrailers() throws {
        let status = Self.status(owner: LeaseStamp(replica: "ctl-2-4711", epoch: 7))
        let yaml = try status.yaml()
        #expect(yaml.contains("owner:") && yaml.contains("replica: ctl-2-4711") && yaml.contains("epoch: 7"), "\(yaml)")
        #expect(try EnvironmentStatus.parse(yaml) == status)
        #expect(status.commitMessage.hasSuffix("Pinwheel-Replica: ctl-2-4711\nPinwheel-Epoch: 7\n"), "\(status.commitMessage)")
    }

    @Test func aTakeoverIsANewStatusEvenWhenTheHostsSayTheSame() {
        let before = Self.status(owner: LeaseStamp(replica: "a", epoch: 1))
        var after = Self.status(owner: LeaseStamp(replica: "b", epoch: 2))
        after.time = "2026-12-07T03:01:00Z"
        #expect(!before.saysTheSame(as: after))
    }

    @Test func aControllerAloneWritesNoOwner() throws {
        let status = Self.status(owner: nil)
        #expect(!(try status.yaml()).contains("owner"))
        #expect(!status.commitMessage.contains("Pinwheel-Replica") && !status.commitMessage.contains("Pinwheel-Epoch"))
        // Statuses written before coordination existed read as having no owner.
        #expect(try EnvironmentStatus.parse(status.yaml()).owner == nil)
    }

    @Test func aStatusIsNotRecordedOverALaterOwnersStatus() {
        let owner = LeaseStamp(replica: "a", epoch: 4)
        #expect(owner.mayFollow(nil))
        #expect(owner.mayFollow(LeaseStamp(replica: "a", epoch: 4)))
        #expect(owner.mayFollow(LeaseStamp(replica: "b", epoch: 3)))
        #expect(!owner.mayFollow(LeaseStamp(replica: "b", epoch: 5)))
        // The epoch decides, not the name: the same replica's own newer lease fences its older self too.
        #expect(!owner.mayFollow(LeaseStamp(replica: "a", epoch: 5)))
    }

    @Test func theOwnerIsReadBackFromTheTrailersForHistory() throws {
        let owned = Self.status(owner: LeaseStamp(replica: "ctl-2-4711", epoch: 7))
        let record = try #require(StatusRecord.parse(summary: owned.summary, trailers: AdmissionOverrideTests.trailers(owned)))
        #expect(record.owner == LeaseStamp(replica: "ctl-2-4711", epoch: 7))
        let alone = Self.status(owner: nil)
        #expect(try #require(StatusRecord.parse(summary: alone.summary, trailers: AdmissionOverrideTests.trailers(alone))).owner == nil)
    }
}

