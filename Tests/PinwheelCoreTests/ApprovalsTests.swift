import Testing
@testable import PinwheelCore

@Suite("Approvals in commit messages")
struct ApprovalsTests {
    @Test func aGitHubMergeCommit() {
        let approvals = Approvals.parse(
            message: "Merge pull request #42 from acme/release-1.1\n\nRelease hello-service 1.1.0\n\nReviewed-by: Dave <dave@example.com>\n",
            isMerge: true, committer: "GitHub <noreply@github.com>", author: "Carol <carol@example.com>")
        #expect(approvals == Approvals(platform: "github", request: "#42", mergedBy: "Carol <carol@example.com>",
                                       approvers: ["Dave <dave@example.com>"]))
        #expect(approvals.description == "pull request #42 (github), merged by Carol <carol@example.com>, approved by Dave <dave@example.com>")
    }

    @Test func aGitLabMergeCommit() {
        let message = """
            Merge branch 'release' into 'main'

            Release hello-service 1.1.0

            See merge request platform/config!17

            Approved-by: Erin <erin@example.com>
            Approved-by: Frank <frank@example.com>
            Reviewed-by: Erin <erin@example.com>
            """
        let approvals = Approvals.parse(message: message, isMerge: true, committer: "Grace <grace@example.com>", author: "Grace <grace@example.com>")
        #expect(approvals.platform == "gitlab" && approvals.request == "platform/config!17")
        #expect(approvals.mergedBy == "Grace <grace@example.com>")
        #expect(approvals.approvers == ["Erin <erin@example.com>", "Frank <frank@example.com>"], "each approver once")
        #expect(approvals.description.hasPrefix("merge request platform/config!17 (gitlab), merged by Grace"))
    }

    @Test func aSquashMergeAndAPlainCommit() {
        let squash = Approvals.parse(message: "Release hello-service 1.1.0 (#7)\n", isMerge: false, committer: "A <a@x>", author: "A <a@x>")
        #expect(squash.request == "#7" && squash.platform == "github" && squash.mergedBy == nil)
        let plain = Approvals.parse(message: "fleet: release 1.1.0\n", isMerge: false, committer: "A <a@x>", author: "A <a@x>")
        #expect(plain.isEmpty && plain.description.isEmpty)
    }

    @Test("look-alikes are not requests", arguments: [
        "Merge pull request #abc from x", "Merge pull request # from x", "Merge pull request #12x", "Fix (#12 )", "Fix (#)",
        "See merge request !12", "See merge request group/proj!", "See merge request group/proj!1a", "See merge request gr oup!3",
    ])
    func lookAlikes(_ message: String) {
        #expect(Approvals.parse(message: message, isMerge: false, committer: "A <a@x>", author: "A <a@x>").request == nil)
    }

    @Test func emptyTrailersAreIgnored() {
        let approvals = Approvals.parse(message: "x\n\nReviewed-by:\nApproved-by:   \n", isMerge: false, committer: "", author: "")
        #expect(approvals.approvers.isEmpty)
    }
}
