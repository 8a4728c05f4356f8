/// Where a metric's value comes from: the operator's Prometheus (`PrometheusClient`), or a test's own numbers.
///
/// One query, one number: a query that answers nothing is no data (nil), which the metric's `noData` judges; a query
/// that cannot be asked or answered throws, and counts as no data too, with the error as its note.
public protocol MetricQuerying: Sendable {
    func value(of query: String) async throws -> Double?
}
