import Mustache
import PinwheelController
import Synchronization

/// The status page (`GET /` on the control server): every environment's desired commit, result, active slot and
/// pins, each host's serving slot, version and health, the rollout under way and the recent history, as one HTML
/// page rendered on the server from a Mustache template embedded in the binary. No JavaScript: the page refreshes
/// itself (`<meta http-equiv="refresh">`) every ``StatusPageModel/rollingRefresh`` seconds while a rollout runs,
/// every ``StatusPageModel/idleRefresh`` seconds otherwise. Read-only: it has no form and no link that acts.
///
/// The last page rendered is kept with the overviews it shows: a refresh while nothing changed answers it again
/// without rendering (the overviews are compared, which costs far less than rendering 200 hosts).
public final class StatusPage: Sendable {
    private let template: MustacheTemplate
    private let last = Mutex<(overviews: [EnvironmentOverview], html: [UInt8])?>(nil)

    /// - Throws: `MustacheTemplate.ParserError` when the embedded template does not parse (a build that broke it;
    ///   the unit tests render it).
    public init() throws {
        template = try MustacheTemplate(string: String(decoding: PackageResources.status_mustache, as: UTF8.self))
    }

    /// The page showing `overviews`, UTF-8.
    public func html(_ overviews: [EnvironmentOverview]) -> [UInt8] {
        if let cached = last.withLock({ $0 }), cached.overviews == overviews {
            return cached.html
        }
        let html = Array(render(overviews).utf8)
        last.withLock { $0 = (overviews, html) }
        return html
    }

    /// Renders the page, without the cache.
    public func render(_ overviews: [EnvironmentOverview]) -> String {
        template.render(StatusPageModel(overviews))
    }
}
