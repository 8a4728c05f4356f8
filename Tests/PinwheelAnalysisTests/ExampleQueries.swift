import Foundation
import PinwheelTestSupport

/// Every PromQL expression the project ships (the Grafana dashboard's panels and the example alert rules), made
/// evaluable by Prometheus's query API as it is, so a test can ask a real Prometheus whether each one finds data.
enum ExampleQueries {
    static let dashboard = Shell.packageRoot.appendingPathComponent("Examples/grafana/pinwheel-dashboard.json")
    static let alertRules = Shell.packageRoot.appendingPathComponent("Examples/prometheus/pinwheel-alerts.yml")

    /// One expression: where it comes from (a panel's title, an alert's name) and the query to send.
    struct Query: CustomStringConvertible {
        var source: String
        var expression: String
        var description: String { "\(source): \(expression)" }
    }

    /// The dashboard's `targets[].expr`, Grafana's variables replaced as Grafana would for "All" over a range:
    /// `$job` and `$environment` by `.*` (their `allValue`), `$__rate_interval` by 5m and `$__range` by 1h.
    static func dashboardQueries() throws -> [Query] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dashboard)) as? [String: Any]
        let panels = json?["panels"] as? [[String: Any]] ?? []
        return panels.flatMap { panel in
            (panel["targets"] as? [[String: Any]] ?? []).compactMap { target -> Query? in
                guard let expression = target["expr"] as? String else { return nil }
                let evaluable = expression
                    .replacingOccurrences(of: "$__rate_interval", with: "5m")
                    .replacingOccurrences(of: "$__range", with: "1h")
                    .replacingOccurrences(of: "$job", with: ".*")
                    .replacingOccurrences(of: "$environment", with: ".*")
                return Query(source: "panel \(panel["title"] as? String ?? "?")", expression: evaluable)
            }
        }
    }

    /// The alert rules' `expr:` lines. An alert's condition is normally empty on a healthy fleet (that is why it
    /// does not fire), so what is asked is the series it compares: each comparison with a number
    /// (`… > 0`, `… > 5 * 1024 * 1024 and on (job, instance) …`) is removed, and `absent(x)` becomes `x`. Each of
    /// these must find data, or the alert could never fire (or, for `absent`, would always fire).
    static func alertQueries() throws -> [Query] {
        let text = try String(contentsOf: alertRules, encoding: .utf8)
        var alert = "?"
        var queries: [Query] = []
        for line in text.split(separator: "\n") {
            if let name = line.firstMatch(of: /^\s*- alert:\s*(\S+)/) {
                alert = String(name.1)
            } else if let match = line.firstMatch(of: /^\s*expr:\s*(.+)$/) {
                var expression = String(match.1).trimmingCharacters(in: .whitespaces)
                // Each comparison with a number (or a product of numbers) goes: what is left must find data.
                expression.replace(/\s*(>=|<=|==|!=|>|<)\s*[0-9.]+(\s*\*\s*[0-9.]+)*/, with: "")
                if let absent = expression.wholeMatch(of: /absent\((.+)\)/) {
                    expression = String(absent.1)
                }
                queries.append(Query(source: "alert \(alert)", expression: expression))
            }
        }
        return queries
    }
}
