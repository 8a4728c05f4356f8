import ArgumentParser
import Foundation
import PinwheelController
import PinwheelWebhooks

/// `--prometheus URL` for `watch` and `apply`: the operator's Prometheus, where the policies' `analysis:` metrics are
/// measured. Never read from git, so a pull request cannot point the analysis at a server that always says yes; its
/// token comes from a file or an environment variable, never from the command line (which `ps` shows), and a URL
/// with credentials in it is refused.
struct PrometheusOptions: ParsableArguments {
    @Option(name: .customLong("prometheus"),
            help: ArgumentHelp("The Prometheus server the policies' `analysis:` queries run against, e.g. http://127.0.0.1:9090.", valueName: "url"))
    var url: String?

    @Option(name: .customLong("prometheus-token-file"),
            help: ArgumentHelp("File holding a bearer token for --prometheus.", valueName: "path"))
    var tokenFile: String?

    @Option(name: .customLong("prometheus-token-env"),
            help: ArgumentHelp("Environment variable holding a bearer token for --prometheus.", valueName: "name"))
    var tokenEnvironment: String?

    func validate() throws {
        _ = try tokenSource
        guard let url else {
            if tokenFile != nil || tokenEnvironment != nil {
                throw ExitError.usage("--prometheus-token-file and --prometheus-token-env are for --prometheus: give --prometheus too")
            }
            return
        }
        _ = try Self.base(url)
    }

    /// The server's base URL: http or https, with a host, and no credentials in it.
    static func base(_ text: String) throws -> URL {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty, let url = components.url else {
            throw ExitError.usage("--prometheus must be an http:// or https:// address such as http://127.0.0.1:9090, found `\(redacted(text))`")
        }
        guard components.user == nil, components.password == nil else {
            throw ExitError.usage("--prometheus \(redacted(text)): credentials in the URL would show in `ps` and logs; "
                                  + "put a bearer token in --prometheus-token-file or --prometheus-token-env")
        }
        guard components.query == nil, components.fragment == nil else {
            throw ExitError.usage("--prometheus \(redacted(text)): give the server's base address, without a query")
        }
        return url
    }

    /// `text` without any user information, for messages.
    static func redacted(_ text: String) -> String {
        let bounded = String(text.prefix(200))
        guard let at = bounded.firstIndex(of: "@"), let scheme = bounded.range(of: "://"), scheme.upperBound <= at else {
            return bounded.filter { !$0.isNewline }
        }
        return (String(bounded[..<scheme.upperBound]) + "[redacted]" + String(bounded[at...])).filter { !$0.isNewline }
    }

    /// Where the bearer token is read, if one is named.
    var tokenSource: SecretSource? {
        get throws(ExitError) {
            try SecretSource.from("the Prometheus bearer token", environment: ("--prometheus-token-env", tokenEnvironment),
                                  file: ("--prometheus-token-file", tokenFile))
        }
    }

    /// The client, with its token read now (a missing one fails before anything starts); nil without `--prometheus`.
    func client() throws -> PrometheusClient? {
        guard let url else { return nil }
        let base = try Self.base(url)
        let token = try tokenSource?.load().textForRedaction
        return PrometheusClient(base: base, bearerToken: token)
    }
}
