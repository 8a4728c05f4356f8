import Testing

@testable import PinwheelWebhooks

@Suite("WebhookVerifier")
struct WebhookVerifierTests {
    let verifier = WebhookVerifier(secret: SecretBytes(Signing.secret))
    let body = Array(Signing.pushBody.utf8)

    // MARK: GitHub

    /// GitHub's own documented example: secret "It's a Secret to Everybody", body "Hello, World!".
    @Test func githubDocumentedExample() {
        let verdict = verifier.verify(
            .github,
            headers: [
                "X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
                "X-GitHub-Event": "push",
            ],
            body: Array("Hello, World!".utf8)
        )
        #expect(verdict == .trigger(reason: "GitHub push", branch: nil))
    }

    @Test func githubPushWithGoodSignatureTriggersWithBranch() {
        let verdict = verifier.verify(
            .github,
            headers: ["x-hub-signature-256": Signing.signature(Signing.pushBody), "x-github-event": "push"],
            body: body
        )
        #expect(verdict == .trigger(reason: "GitHub push", branch: "main"))
    }

    @Test func githubUpperCaseHexIsAccepted() {
        let verdict = verifier.verify(
            .github,
            headers: ["X-Hub-Signature-256": "sha256=" + Signing.signature(Signing.pushBody).dropFirst(7).uppercased(), "X-GitHub-Event": "push"],
            body: body
        )
        #expect(verdict == .trigger(reason: "GitHub push", branch: "main"))
    }

    @Test func githubBadSignatureIsRejected() {
        var tampered = body
        tampered[tampered.count - 2] = UInt8(ascii: "X")
        let verdict = verifier.verify(
            .github,
            headers: ["X-Hub-Signature-256": Signing.signature(Signing.pushBody), "X-GitHub-Event": "push"],
            body: tampered
        )
        guard case .reject(let reason) = verdict else { Issue.record("expected reject, got \(verdict)"); return }
        #expect(reason.contains("does not match"))
    }

    @Test func githubWrongSecretIsRejected() {
        let verdict = verifier.verify(
            .github,
            headers: ["X-Hub-Signature-256": Signing.signature(Signing.pushBody, secret: "another"), "X-GitHub-Event": "push"],
            body: body
        )
        guard case .reject = verdict else { Issue.record("expected reject, got \(verdict)"); return }
    }

    @Test func githubMissingSignatureIsRejected() {
        let verdict = verifier.verify(.github, headers: ["X-GitHub-Event": "push"], body: body)
        #expect(verdict == .reject("missing X-Hub-Signature-256 header (set a secret on the GitHub webhook)"))
    }

    @Test(arguments: ["sha256=", "sha256=zz", "sha1=" + String(repeating: "0", count: 40), "sha256=" + String(repeating: "0", count: 62), "garbage"])
    func githubMalformedSignatureIsRejected(signature: String) {
        let verdict = verifier.verify(.github, headers: ["X-Hub-Signature-256": signature, "X-GitHub-Event": "push"], body: body)
        guard case .reject(let reason) = verdict else { Issue.record("expected reject, got \(verdict)"); return }
        #expect(reason.hasPrefix("malformed"))
    }

    @Test func githubPingIsIgnored() {
        let ping = #"{"zen":"Keep it logically awesome.","hook_id":1}"#
        let verdict = verifier.verify(.github, headers: ["X-Hub-Signature-256": Signing.signature(ping), "X-GitHub-Event": "ping"], body: Array(ping.utf8))
        #expect(verdict == .ignore("GitHub ping"))
    }

    @Test(arguments: ["issues", "pull_request", "create"])
    func githubOtherEventsAreIgnored(event: String) {
        let verdict = verifier.verify(.github, headers: ["X-Hub-Signature-256": Signing.signature(Signing.pushBody), "X-GitHub-Event": event], body: body)
        #expect(verdict == .ignore("GitHub event '\(event)' is not a push"))
    }

    /// An unauthenticated ping is still rejected: authenticity is checked before the event.
    @Test func githubUnsignedPingIsRejected() {
        let verdict = verifier.verify(.github, headers: ["X-GitHub-Event": "ping"], body: [])
        guard case .reject = verdict else { Issue.record("expected reject, got \(verdict)"); return }
    }

    @Test func githubFormEncodedPayloadGivesBranch() {
        let form = "payload=%7B%22ref%22%3A%22refs%2Fheads%2Frelease-1%22%7D"
        let verdict = verifier.verify(.github, headers: ["X-Hub-Signature-256": Signing.signature(form), "X-GitHub-Event": "push"], body: Array(form.utf8))
        #expect(verdict == .trigger(reason: "GitHub push", branch: "release-1"))
    }

    // MARK: GitLab

    @Test(arguments: ["Push Hook", "Tag Push Hook"])
    func gitlabPushWithTokenTriggers(event: String) {
        let verdict = verifier.verify(.gitlab, headers: ["X-Gitlab-Token": Signing.secret, "X-Gitlab-Event": event], body: body)
        #expect(verdict == .trigger(reason: "GitLab \(event)", branch: "main"))
    }

    @Test func gitlabTagPushHasNoBranch() {
        let tag = Array(#"{"object_kind":"tag_push","ref":"refs/tags/v1.0"}"#.utf8)
        let verdict = verifier.verify(.gitlab, headers: ["X-Gitlab-Token": Signing.secret, "X-Gitlab-Event": "Tag Push Hook"], body: tag)
        #expect(verdict == .trigger(reason: "GitLab Tag Push Hook", branch: nil))
    }

    @Test(arguments: ["wrong", "", Signing.secret + "x", String(Signing.secret.dropLast())])
    func gitlabWrongTokenIsRejected(token: String) {
        let verdict = verifier.verify(.gitlab, headers: ["X-Gitlab-Token": token, "X-Gitlab-Event": "Push Hook"], body: body)
        #expect(verdict == .reject("X-Gitlab-Token does not match"))
    }

    @Test func gitlabMissingTokenIsRejected() {
        let verdict = verifier.verify(.gitlab, headers: ["X-Gitlab-Event": "Push Hook"], body: body)
        guard case .reject(let reason) = verdict else { Issue.record("expected reject, got \(verdict)"); return }
        #expect(reason.contains("X-Gitlab-Token"))
    }

    @Test func gitlabOtherEventsAreIgnored() {
        let verdict = verifier.verify(.gitlab, headers: ["X-Gitlab-Token": Signing.secret, "X-Gitlab-Event": "Merge Request Hook"], body: body)
        #expect(verdict == .ignore("GitLab event 'Merge Request Hook' is not a push"))
    }

    /// A GitHub signature on the GitLab route is not a GitLab token.
    @Test func gitlabRouteIgnoresGitHubSignature() {
        let verdict = verifier.verify(.gitlab, headers: ["X-Hub-Signature-256": Signing.signature(Signing.pushBody), "X-Gitlab-Event": "Push Hook"], body: body)
        guard case .reject = verdict else { Issue.record("expected reject, got \(verdict)"); return }
    }

    // MARK: Generic

    @Test func genericSignedTriggers() {
        let verdict = verifier.verify(.generic, headers: ["X-Pinwheel-Signature": Signing.signature(Signing.pushBody)], body: body)
        #expect(verdict == .trigger(reason: "signed generic push", branch: "main"))
    }

    @Test func genericBadSignatureIsRejectedEvenWithAGoodBearer() {
        let verdict = verifier.verify(
            .generic,
            headers: ["X-Pinwheel-Signature": Signing.signature("other"), "Authorization": "Bearer \(Signing.secret)"],
            body: body
        )
        guard case .reject = verdict else { Issue.record("expected reject, got \(verdict)"); return }
    }

    @Test(arguments: ["Bearer", "bearer", "BEARER"])
    func genericBearerTriggers(scheme: String) {
        let verdict = verifier.verify(.generic, headers: ["authorization": "\(scheme) \(Signing.secret)"], body: [])
        #expect(verdict == .trigger(reason: "authorized generic push", branch: nil))
    }

    @Test func genericBearerWithPlainBranch() {
        let verdict = verifier.verify(.generic, headers: ["Authorization": "Bearer \(Signing.secret)"], body: Array(#"{"ref":"staging"}"#.utf8))
        #expect(verdict == .trigger(reason: "authorized generic push", branch: "staging"))
    }

    @Test(arguments: ["Bearer wrong", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer \(Signing.secret) "])
    func genericBadAuthorizationIsRejected(authorization: String) {
        let verdict = verifier.verify(.generic, headers: ["Authorization": authorization], body: body)
        guard case .reject = verdict else { Issue.record("expected reject, got \(verdict)"); return }
    }

    @Test func genericWithoutCredentialsIsRejected() {
        let verdict = verifier.verify(.generic, headers: [:], body: body)
        #expect(verdict == .reject("missing X-Pinwheel-Signature or Authorization: Bearer header"))
    }

    // MARK: Ref parsing and hygiene

    @Test(arguments: [
        (#"{"ref":"refs/heads/main"}"#, "main"),
        (#"{"ref":"refs/heads/feature/x"}"#, "feature/x"),
        (#"{"ref":"refs/tags/v1"}"#, nil),
        (#"{"ref":"refs/heads/"}"#, nil),
        (#"{"ref":"refs/pull/1/head"}"#, nil),
        (#"{"ref":42}"#, nil),
        (#"{"after":"abc"}"#, nil),
        (#"["ref"]"#, nil),
        ("not json", nil),
        ("", nil),
    ] as [(String, String?)])
    func branchParsing(body: String, branch: String?) {
        #expect(WebhookVerifier.pushedBranch(in: Array(body.utf8)) == branch)
    }

    @Test func reasonsNeverContainTheSecret() {
        let attempts: [(WebhookForm, [String: String])] = [
            (.github, ["X-Hub-Signature-256": "sha256=" + String(repeating: "0", count: 64), "X-GitHub-Event": "push"]),
            (.gitlab, ["X-Gitlab-Token": "nope", "X-Gitlab-Event": Signing.secret]),
            (.gitlab, ["X-Gitlab-Token": Signing.secret, "X-Gitlab-Event": "other"]),
            (.generic, ["Authorization": "Bearer nope"]),
        ]
        for (form, headers) in attempts {
            let text = "\(verifier.verify(form, headers: headers, body: body))"
            #expect(!text.contains("Secret to Everybody"), "\(form): \(text)")
        }
    }

    @Test func attackerChosenEventNamesAreShortenedAndCleaned() {
        let event = String(repeating: "x", count: 100) + "\n"
        let verdict = verifier.verify(.github, headers: ["X-Hub-Signature-256": Signing.signature(Signing.pushBody), "X-GitHub-Event": event], body: body)
        guard case .ignore(let reason) = verdict else { Issue.record("expected ignore, got \(verdict)"); return }
        #expect(!reason.contains("\n"))
        #expect(reason.count < 100)
    }
}
