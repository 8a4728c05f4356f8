import Foundation
import PinwheelTestSupport
import Testing

/// `pinwheel watch --listen`'s status page opened in a real browser (Debian's `chromium`, headless, installed by
/// scripts/setup) while a release rolls out on a loopback fleet and after it converged: the content is checked in
/// the DOM the browser built, and a screenshot of the rollout under way is saved (to `$PINWHEEL_STATUS_SCREENSHOT`
/// when set: that is how `docs/status-page.png` is made).
@Suite("Status page in a browser", .serialized)
struct StatusPageBrowserTests {
    static let first = 81

    /// Headless Chromium with a profile of its own in `directory`.
    struct Browser {
        let directory: String

        func run(_ arguments: [String]) async throws -> Shell.Output {
            try await Shell.run("chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                             "--hide-scrollbars", "--user-data-dir=\(directory)/chromium"] + arguments)
        }

        /// The DOM after the page loaded, serialized.
        func dom(_ url: String) async throws -> String {
            let result = try await run(["--dump-dom", url])
            #expect(result.status == 0, "\(result.standardError)")
            return result.standardOutput
        }

        func screenshot(_ url: String, to path: String) async throws {
            let result = try await run(["--screenshot=\(path)", "--window-size=1280,900", url])
            #expect(result.status == 0, "\(result.standardError)")
        }
    }

    @Test(.tags(.fleet)) func theStatusPageShowsTheRolloutAndTheFleetInABrowser() async throws {
        let fleet = try await TestFleet.start(hosts: 3, first: Self.first)
        // A canary, a pause, then the other two: the page is looked at while the rollout pauses.
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 2, pause: 12s, maxFailures: 0, onFailure: halt}
            health: {retries: 40, interval: 250ms}
            drift: heal

            """)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let port = try FreePort.next()
        let watcher = try WatchProcess(remote: config.remote, allow: fleet.directory, cache: "\(fleet.directory)/cache",
                                                    log: "\(fleet.directory)/watch.log", extra: ["--listen", "127.0.0.1:\(port)"])
        defer { watcher.signal(SIGTERM); watcher.process.waitUntilExit() }
        try await watcher.waitFor(.statusCommitted, timeout: .seconds(90))
        let browser = Browser(directory: fleet.directory)
        let url = "http://127.0.0.1:\(port)/"

        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        let mark = watcher.mark
        let release = try await config.commitAndPush("fleet: release hello-service 1.1.0")

        // Mid-rollout: the canary is switched and the rollout pauses before the first batch.
        try await watcher.waitFor(.stageStarted, after: mark, timeout: .seconds(60), where: ["stage": "pause"])
        let api = try await Shell.run("curl", ["-s", "--max-time", "3", "http://127.0.0.1:\(port)/api/v1/environments/fleet"])
        let live = try JSONSerialization.jsonObject(with: Data(api.standardOutput.utf8)) as? [String: Any]
        let progress = live?["progress"] as? [String: Any]
        #expect(progress?["commit"] as? String == release, "\(api.standardOutput)")
        #expect(progress?["hosts"] as? Int == 3)
        #expect(progress?["stage"] as? String == "pause")
        #expect(progress?["done"] as? Int == 1)
        let during = try await browser.dom(url)
        #expect(during.contains(#"<meta http-equiv="refresh" content="2">"#), "\(during)")
        #expect(during.contains(#"<div class="progress" id="progress-fleet">"#), "\(during)")
        #expect(during.contains("Rolling out <code>\(release.prefix(7))</code>"), "\(during)")
        #expect(during.contains(#"<strong class="stage">pause</strong>"#), "\(during)")
        #expect(during.contains(#"<span class="done">1</span> of <span class="total">3</span> hosts done"#), "\(during)")
        // The canary shows what it reported after its switch; the others what the last status says.
        #expect(during.contains(#"<tr class="host" data-host="\#(fleet.name(0))"><td>\#(fleet.name(0))</td><td class="serving">B</td><td class="version">hello-service 1.1.0</td>"#), "\(during)")
        #expect(during.contains(#"<tr class="host" data-host="\#(fleet.name(2))"><td>\#(fleet.name(2))</td><td class="serving">A</td><td class="version">hello-service 1.0.0</td>"#), "\(during)")
        #expect(during.contains(#"<span class="badge busy">rolling out</span></td>"#), "\(during)")
        // The screenshot shows the rollout under way: the canary on B, the other two still on A.
        let screenshot = ProcessInfo.processInfo.environment["PINWHEEL_STATUS_SCREENSHOT"] ?? "\(fleet.directory)/status-page.png"
        try await browser.screenshot(url, to: screenshot)
        let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "not a PNG")
        #expect(png.count > 20_000, "a page with three hosts is more than a blank PNG: \(png.count) bytes")

        try await watcher.waitFor(.statusCommitted, after: mark, timeout: .seconds(90), where: ["result": "converged", "commit": release])
        let dom = try await browser.dom(url)
        #expect(dom.contains(#"<section class="environment" id="env-fleet" data-result="converged">"#), "\(dom)")
        #expect(dom.contains(#"<code class="desired" title="\#(release)">\#(release.prefix(7))</code>"#), "\(dom)")
        #expect(dom.contains(#"<dd class="active">B</dd>"#))
        #expect(dom.contains("<code>hello-service==1.1.0</code>"))
        #expect(dom.contains(#"<span class="healthy">3</span> of <span class="host-count">3</span>"#), "\(dom)")
        for index in 0..<fleet.hosts {
            #expect(dom.contains(#"<tr class="host" data-host="\#(fleet.name(index))"><td>\#(fleet.name(index))</td><td class="serving">B</td><td class="version">hello-service 1.1.0</td><td><span class="badge ok health">healthy</span></td>"#),
                    "\(fleet.name(index)) in \(dom)")
        }
        // The history: the release, who made it, and that it converged; the page is idle again.
        #expect(dom.contains(#"<strong class="summary">fleet: release hello-service 1.1.0</strong>"#), "\(dom)")
        #expect(dom.contains("<li>slot B: hello-service 1.0.0 → 1.1.0</li>"), "\(dom)")
        #expect(dom.contains("<li>active: A → B</li>"), "\(dom)")
        #expect(dom.contains(#"<td class="author">Alice</td>"#), "\(dom)")
        #expect(dom.contains(#"<span class="badge ok">converged</span>"#))
        #expect(!dom.contains(#"id="progress-fleet""#))
        #expect(dom.contains(#"<meta http-equiv="refresh" content="30">"#))

    }
}
