import Foundation
import Yams

extension PolicyParser {
    /// `analysis: {metrics: [{name, query, interval, count, initialDelay, max|min|maxIncrease, failureLimit, critical,
    /// noData}]}`. Every mistake is reported at its line and column; a metric with one is left out (and the file is
    /// invalid, so nothing is applied from it).
    func parseAnalysis(_ node: Node) -> MetricAnalysis? {
        guard let fields = reader.mapping(node, "`analysis`", required: ["metrics"]),
              let metricsNode = fields["metrics"], let items = reader.sequence(metricsNode, "`analysis.metrics`") else { return nil }
        if items.isEmpty {
            reader.error("`analysis.metrics` lists no metric", at: metricsNode, hint: "leave `analysis` out, or list a metric with its query")
            return nil
        }
        if items.count > Self.maximumMetrics {
            reader.error("`analysis.metrics` lists \(items.count) metrics; at most \(Self.maximumMetrics) are allowed", at: metricsNode)
            return nil
        }
        var metrics: [MetricAnalysis.Metric] = []
        for (index, item) in items.enumerated() {
            guard let metric = parseMetric(item, "`analysis.metrics[\(index)]`") else { continue }
            if metrics.contains(where: { $0.name == metric.name }) {
                reader.error("`analysis.metrics[\(index)]` repeats the name `\(metric.name)`", at: item, hint: "give each metric its own name")
                continue
            }
            metrics.append(metric)
        }
        return MetricAnalysis(metrics: metrics)
    }

    static let maximumMetrics = 20

    private func parseMetric(_ node: Node, _ what: String) -> MetricAnalysis.Metric? {
        let keys = ["interval", "count", "initialDelay", "min", "max", "maxIncrease", "failureLimit", "critical", "noData"]
        guard let fields = reader.mapping(node, what, required: ["name", "query"], optional: keys) else { return nil }
        var valid = true
        var name: String?
        if let node = fields["name"], let text = reader.string(node, "\(what).name") {
            if Self.isEnvironmentName(text), text.count <= 64 {
                name = text
            } else {
                reader.error("\(what).name must be a short name (letters, digits, `-`, `_`, `.`; at most 64), found `\(Quote.excerpt(text))`",
                             at: node)
            }
        }
        var query: QueryTemplate?
        if let node = fields["query"], let text = reader.string(node, "\(what).query") {
            do {
                query = try QueryTemplate(text)
            } catch {
                reader.error("\(what).query: \(error.description)", at: node)
            }
        }
        var metric = MetricAnalysis.Metric(name: "", query: try! QueryTemplate("vector(0)"), rule: .threshold(min: nil, max: nil))
        if let value = fields["interval"].flatMap({ reader.duration($0, "\(what).interval", in: .seconds(1)...ConfigDuration.seconds(3600)) }) {
            metric.interval = value
        } else if fields["interval"] != nil { valid = false }
        if let value = fields["count"].flatMap({ reader.integer($0, "\(what).count", in: 1...100) }) {
            metric.count = value
        } else if fields["count"] != nil { valid = false }
        if let value = fields["initialDelay"].flatMap({ reader.duration($0, "\(what).initialDelay", in: .seconds(0)...ConfigDuration.seconds(3600)) }) {
            metric.initialDelay = value
        } else if fields["initialDelay"] != nil { valid = false }
        if let node = fields["failureLimit"] {
            if let value = reader.integer(node, "\(what).failureLimit", in: 0...100) {
                if value >= metric.count {
                    reader.error("\(what).failureLimit (\(value)) must be less than `count` (\(metric.count)), or the metric could never fail",
                                 at: node)
                    valid = false
                } else {
                    metric.failureLimit = value
                }
            } else { valid = false }
        }
        if let node = fields["critical"] {
            if let value = reader.boolean(node, "\(what).critical") { metric.critical = value } else { valid = false }
        }
        if let node = fields["noData"] {
            if let value = reader.choice(node, "\(what).noData", as: MetricAnalysis.NoData.self) { metric.noData = value } else { valid = false }
        }
        let minimum = fields["min"].map { number($0, "\(what).min") }
        let maximum = fields["max"].map { number($0, "\(what).max") }
        let increase = fields["maxIncrease"].map { number($0, "\(what).maxIncrease") }
        if minimum == .some(nil) || maximum == .some(nil) || increase == .some(nil) { valid = false }
        switch (minimum ?? nil, maximum ?? nil, increase ?? nil) {
        case let (nil, nil, factor?):
            if factor < 1 || factor > 1000 {
                reader.error("\(what).maxIncrease must be a factor from 1 to 1000 (1.2: at most 20 % more than the stable slot), found "
                             + MetricAnalysis.Rule.number(factor), at: fields["maxIncrease"]!)
                valid = false
            } else {
                metric.rule = .relative(maxIncrease: factor)
            }
        case (_, _, _?):
            reader.error("\(what) has both a threshold (`min`/`max`) and `maxIncrease`; give one", at: node)
            valid = false
        case let (low, high, nil):
            if low == nil, high == nil {
                if minimum == nil, maximum == nil, increase == nil {
                    reader.error("\(what) needs a verdict: `max` and/or `min` (a threshold), or `maxIncrease` (a comparison with the stable slot)",
                                 at: node)
                }
                valid = false
            } else if let low, let high, low > high {
                reader.error("\(what).min (\(MetricAnalysis.Rule.number(low))) is above its max (\(MetricAnalysis.Rule.number(high)))", at: node)
                valid = false
            } else {
                metric.rule = .threshold(min: low, max: high)
            }
        }
        guard valid, let name, let query else { return nil }
        metric.name = name
        metric.query = query
        return metric
    }

    /// A finite decimal number.
    private func number(_ node: Node, _ what: String) -> Double? {
        guard case let .scalar(scalar) = node, scalar.style == .plain,
              let value = Double(scalar.string), value.isFinite,
              scalar.string.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }) else {
            reader.error("\(what) must be a number such as `0.01` or `250`, found `\(Quote.excerpt(node.scalar?.string ?? "a \(nodeKind(node))"))`",
                         at: node)
            return nil
        }
        return value
    }

    private func nodeKind(_ node: Node) -> String {
        switch node {
        case .mapping: return "mapping"
        case .sequence: return "list"
        default: return "value"
        }
    }
}
