import Foundation
import PinwheelController
import PinwheelCore
import PinwheelStatusPage
import Testing

/// The status page rendered from made-up overviews: what it shows, that every value is escaped, how it refreshes,
/// and that a refresh with nothing new is answered from the cache.
@Suite struct StatusPageTests {
    static func status(hosts: Int = 3, message: String = "all hosts serve B", result: EnvironmentStatus.Result = .converged) -> EnvironmentStatus {
        var all: [String: EnvironmentStatus.HostStatus] = [:]
        for index in 1...hosts {
            all["web\(index)"] = .init(serving: .b, slots: ["A": ["hello-service==1.0.0"], "B": ["hello-service==1.1.0"]],
                                       healthy: true)
        }
        return EnvironmentStatus(environment: "prod", desired: "0123456789abcdef0123456789abcdef01234567", result: result,
                                 message: message, time: "2026-11-24T00:00:00Z", active: .b,
                                 pins: ["hello-service==1.1.0"], hosts: all, applied: "0123456789abcdef0123456789abcdef01234567")
    }

    static let history = [
        RecentChange(commit: "0123456789abcdef0123456789abcdef01234567", summary: "prod: release hello-service 1.1.0",
                     author: "Ada Lovelace", time: "2026-11-23T23:59:00Z", changes: ["slot B: hello-service 1.0.0 → 1.1.0", "active: A → B"],
                     result: "converged"),
        RecentChange(commit: "fedcba9876543210fedcba9876543210fedcba98", summary: "prod: first deploy", author: "Grace Hopper",
                     time: "2026-11-22T10:00:00Z", changes: ["new environment"], result: nil),
    ]

    @Test func showsEveryEnvironmentHostAndChange() throws {
        let page = try StatusPage()
        var staging = Self.status(hosts: 1)
        staging.environment = "staging"
        staging.hosts["web1"]?.serving = .a
        staging.hosts["web1"]?.healthy = false
        staging.hosts["web1"]?.error = "health check failed"
        let html = page.render([EnvironmentOverview(status: Self.status(hosts: 12), history: Self.history),
                                EnvironmentOverview(status: staging)])
        #expect(html.contains(#"<section class="environment" id="env-prod" data-result="converged">"#))
        #expect(html.contains(#"id="env-staging""#))
        #expect(html.contains(#"<code class="desired" title="0123456789abcdef0123456789abcdef01234567">0123456</code>"#))
        #expect(html.contains(#"<dd class="active">B</dd>"#))
        #expect(html.contains("<code>hello-service==1.1.0</code>"))
        #expect(html.contains(#"<span class="healthy">12</span> of <span class="host-count">12</span>"#))
        // Hosts in natural order, each with its serving slot, version and health.
        let rows = html.components(separatedBy: #"<tr class="host" data-host=""#).dropFirst().map { $0.prefix { $0 != "\"" } }
        #expect(rows.prefix(12) == ["web1", "web2", "web3", "web4", "web5", "web6", "web7", "web8", "web9", "web10", "web11", "web12"])
        #expect(html.contains(#"<td class="serving">B</td><td class="version">hello-service 1.1.0</td>"#))
        #expect(html.contains(#"<td class="serving">A</td><td class="version">hello-service 1.0.0</td><td><span class="badge bad health">unhealthy</span></td><td class="error">health check failed</td>"#))
        // The history: who, what, when, result; a commit never applied says so.
        #expect(html.contains(#"<td class="author">Ada Lovelace</td>"#))
        #expect(html.contains("<li>slot B: hello-service 1.0.0 → 1.1.0</li>"))
        #expect(html.contains(#"<span class="badge ok">converged</span>"#))
        #expect(html.contains(#"<span class="badge warn">not applied</span>"#))
        // Read-only: nothing on it acts.
        #expect(!html.contains("<form") && !html.contains("<script") && !html.contains("<button"))
        // Idle: it refreshes slowly.
        #expect(html.contains(#"<meta http-equiv="refresh" content="30">"#))
        #expect(!html.contains("id=\"progress-"))
    }

    @Test func withSeveralControllersItSaysWhichReplicaOwnsTheEnvironment() throws {
        var owned = Self.status()
        owned.owner = LeaseStamp(replica: "ctl-2-<b>4711</b>", epoch: 3)
        let html = try StatusPage().render([EnvironmentOverview(status: owned)])
        #expect(html.contains(#"<dt>owned by</dt><dd class="owner">ctl-2-&lt;b&gt;4711&lt;/b&gt; (lease epoch 3)</dd>"#), "\(html)")
        // A controller alone says nothing about owners.
        #expect(!(try StatusPage().render([EnvironmentOverview(status: Self.status())])).contains("owned by"))
    }

    /// A status the controller did not sign is said on the page (and in the API's `statusWarning`), escaped; none is
    /// said when there is nothing to warn of.
    @Test func aStatusNotBelievedIsSaid() throws {
        let page = try StatusPage()
        var overview = EnvironmentOverview(status: Self.status())
        #expect(!page.render([overview]).contains("status-warning"))
        overview.statusWarning = "the newest status (abc1234) is not the controller's (unsigned) <b>"
        let html = page.render([overview])
        #expect(html.contains(#"<dd class="error status-warning">the newest status (abc1234) is not the controller&#39;s (unsigned) &lt;b&gt;</dd>"#)
                || html.contains(#"<dd class="error status-warning">the newest status (abc1234) is not the controller&#x27;s (unsigned) &lt;b&gt;</dd>"#),
                "\(html)")
        let json = String(decoding: try JSONEncoder().encode(overview), as: UTF8.self)
        #expect(json.contains(#""statusWarning":"the newest status (abc1234) is not the controller's (unsigned) <b>""#), "\(json)")
    }

    @Test func escapesEveryValue() throws {
        let hostile = #"<script>alert("x")</script> & 'quotes'"#
        var status = Self.status(message: hostile, result: .invalid)
        status.errors = ["Environments/prod/A.txt:1:1: <img src=x onerror=alert(1)>"]
        status.hosts["<b>web</b>"] = .init(serving: nil, slots: [:], healthy: false, error: hostile)
        let change = RecentChange(commit: "abc", summary: hostile, author: "<i>Mallory</i>", time: "t", changes: [hostile], result: "halted")
        let html = try StatusPage().render([EnvironmentOverview(status: status, history: [change])])
        #expect(!html.contains("<script>") && !html.contains("<img") && !html.contains("<b>web") && !html.contains("<i>Mallory"))
        #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;"))
        #expect(html.contains(#"data-host="&lt;b&gt;web&lt;/b&gt;""#))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;"))
    }

    @Test func aRolloutUnderWayShowsItsStageAndRefreshesOften() throws {
        var progress = RolloutProgress(commit: "fedcba9876543210fedcba9876543210fedcba98", started: "2026-11-24T00:01:00Z", hosts: 20)
        progress.record(.started(.route(["web3", "web4"], stage: .batch(1))))
        progress.failures = ["web7": "ssh: connection refused"]
        let first = RolloutProgress(commit: "1111111", started: "t", hosts: 2)
        let html = try StatusPage().render([
            EnvironmentOverview(status: Self.status(result: .progressing), progress: progress, history: [
                RecentChange(commit: progress.commit, summary: "prod: release 1.2.0", author: "Ada", time: "t", changes: [], result: nil),
            ]),
            EnvironmentOverview(environment: "canary", progress: first),
        ])
        #expect(html.contains(#"<meta http-equiv="refresh" content="2">"#))
        #expect(html.contains(#"<span class="badge busy">rolling out</span></td>"#), "the commit under way, in the history")
        #expect(html.contains(#"<div class="progress" id="progress-prod">"#))
        #expect(html.contains(#"Rolling out <code>fedcba9</code></strong> since 2026-11-24T00:01:00Z — stage <strong class="stage">batch 1</strong> (0/2 hosts)"#))
        #expect(html.contains(#"<span class="done">0</span> of <span class="total">20</span> hosts done"#))
        #expect(html.contains("<li class=\"error\"><strong>web7</strong>: ssh: connection refused</li>"))
        // An environment on its first rollout has no status yet: it shows as progressing.
        #expect(html.contains(#"id="env-canary" data-result="progressing""#))
        #expect(html.contains(#"<div class="progress" id="progress-canary">"#))
    }

    @Test func anEmptyControllerSaysSo() throws {
        let html = try StatusPage().render([])
        #expect(html.contains(#"<p class="muted" id="empty">"#))
    }

    @Test func aRefreshWithNothingNewIsAnsweredFromTheCache() throws {
        let page = try StatusPage()
        let overviews = [EnvironmentOverview(status: Self.status(hosts: 200), history: Self.history)]
        let first = page.html(overviews)
        #expect(String(decoding: first, as: UTF8.self) == page.render(overviews))
        #expect(page.html(overviews) == first)
        var changed = overviews
        changed[0].status.hosts["web5"]?.healthy = false
        let second = String(decoding: page.html(changed), as: UTF8.self)
        #expect(second.contains(#"<span class="healthy">199</span> of <span class="host-count">200</span>"#))
    }

    @Test func theAPIEncodesTheStatusFieldsWithProgressAndHistory() throws {
        let progress = RolloutProgress(commit: "abc", started: "t", hosts: 3)
        let overview = EnvironmentOverview(status: Self.status(), progress: progress, history: Self.history)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try #require(try JSONSerialization.jsonObject(with: encoder.encode(overview)) as? [String: Any])
        #expect(json["environment"] as? String == "prod")
        #expect(json["result"] as? String == "converged")
        #expect((json["hosts"] as? [String: Any])?.count == 3)
        #expect((json["progress"] as? [String: Any])?["stage"] as? String == "observe")
        #expect((json["progress"] as? [String: Any])?["hosts"] as? Int == 3)
        #expect((json["history"] as? [[String: Any]])?.first?["author"] as? String == "Ada Lovelace")
        let idle = try #require(try JSONSerialization.jsonObject(with: encoder.encode(EnvironmentOverview(status: Self.status()))) as? [String: Any])
        #expect(idle["progress"] == nil)
        #expect((idle["history"] as? [Any])?.isEmpty == true)
    }

    @Test func aSupersededRolloutShowsTheNewerCommitAndTheHostsItSwitchedOnThePageAndInTheAPI() throws {
        var status = Self.status(message: "superseded by 9c1e2f4: stopped at the pause stage", result: .superseded)
        status.superseded = .init(by: "9c1e2f4a9c1e2f4a9c1e2f4a9c1e2f4a9c1e2f4a", stage: "pause", switched: ["web1"],
                                  untouched: ["web2", "web3"])
        let change = RecentChange(commit: status.desired, summary: "prod: release hello-service 1.1.0", author: "Ada Lovelace",
                                  time: "2026-11-23T23:59:00Z", changes: [], result: "superseded",
                                  supersededBy: "9c1e2f4a9c1e2f4a9c1e2f4a9c1e2f4a9c1e2f4a")
        let overview = EnvironmentOverview(status: status, history: [change])
        let html = try StatusPage().render([overview])
        #expect(html.contains(#"<span class="badge busy">superseded</span> <span class="muted">superseded by <code>9c1e2f4</code></span>"#), "\(html)")
        #expect(html.contains(#"data-result="superseded""#))
        #expect(html.contains(#"<span class="badge busy result">superseded</span>"#))
        #expect(html.contains(#"<dt>superseded by</dt><dd><code class="superseded-by">9c1e2f4</code>"#))
        #expect(html.contains(#"<span class="switched">web1</span>"#))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try #require(try JSONSerialization.jsonObject(with: encoder.encode(overview)) as? [String: Any])
        #expect(json["result"] as? String == "superseded")
        let superseded = try #require(json["superseded"] as? [String: Any])
        #expect(superseded["by"] as? String == "9c1e2f4a9c1e2f4a9c1e2f4a9c1e2f4a9c1e2f4a")
        #expect(superseded["switched"] as? [String] == ["web1"])
        #expect(superseded["untouched"] as? [String] == ["web2", "web3"])
        #expect(superseded["stage"] as? String == "pause")
    }
}
