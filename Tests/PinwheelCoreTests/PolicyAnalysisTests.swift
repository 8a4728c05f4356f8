import Testing
@testable import PinwheelCore

/// `bake:` and `analysis:` in a policy: what they read as, and every mistake at its line and column. The config loader
/// accepts them now that the rollout bakes and analyses; a parser told not to (``PolicyParser/acceptsAnalysis``)
/// still refuses them as unknown keys.
@Suite("Policies: bake and analysis")
struct PolicyAnalysisTests {
    struct Parsed {
        var policy: Policy?
        var diagnostics: [Diagnostic]
        var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
    }

    static func load(_ text: String) throws -> Parsed {
        let log = DiagnosticLog()
        let document = try #require(YAMLDocument.parse(text, path: Fixture.policyPath, log: log))
        let policy = PolicyParser(reader: ConfigReader(document: document, log: log), acceptsAnalysis: true).parse(name: "prod")
        return Parsed(policy: policy, diagnostics: log.diagnostics)
    }

    @Test func theConfigLoaderAcceptsThem() throws {
        var files = Fixture.files
        files[Fixture.policyPath] = Self.errorRatio
        let found = try Fixture.load(files).diagnostics.map(\.description)
        #expect(!found.contains { $0.contains("unknown key") }, "\(found)")
        #expect(!found.contains { $0.contains("error") }, "\(found)")
    }

    @Test func aParserThatCannotEnforceThemRefusesThem() throws {
        let log = DiagnosticLog()
        let document = try #require(YAMLDocument.parse(Self.errorRatio, path: Fixture.policyPath, log: log))
        _ = PolicyParser(reader: ConfigReader(document: document, log: log), acceptsAnalysis: false).parse(name: "prod")
        let found = log.diagnostics.map(\.description)
        #expect(found.contains { $0.contains("unknown key `bake`") })
        #expect(found.contains { $0.contains("unknown key `analysis`") })
    }

    static let errorRatio = """
        bake: 2m
        analysis:
          metrics:
            - name: error-ratio
              query: |
                sum(rate(http_requests_total{env="{{environment}}",slot="{{slot}}",status=~"5.."}[1m]))
                / sum(rate(http_requests_total{env="{{environment}}",slot="{{slot}}"}[1m]))
              interval: 30s
              count: 4
              initialDelay: 1m
              max: 0.01
              failureLimit: 1
            - name: p99
              query: histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{slot="{{slot}}"}[1m])))
              maxIncrease: 1.2
              critical: true
              noData: fail

        """

    @Test func aWorkedExampleReads() throws {
        let report = try Self.load(Self.errorRatio)
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics)")
        let policy = try #require(report.policy)
        #expect(policy.bake == .seconds(120))
        let metrics = try #require(policy.analysis?.metrics)
        #expect(metrics.map(\.name) == ["error-ratio", "p99"])
        #expect(metrics[0].rule == .threshold(min: nil, max: 0.01))
        #expect(metrics[0].interval == .seconds(30) && metrics[0].count == 4 && metrics[0].initialDelay == .seconds(60))
        #expect(metrics[0].failureLimit == 1 && !metrics[0].critical && metrics[0].noData == .hold)
        #expect(metrics[1].rule == .relative(maxIncrease: 1.2) && metrics[1].critical && metrics[1].noData == .fail)
        #expect(metrics[0].query.placeholders == [.environment, .slot])
    }

    @Test func withoutThemNothingChanges() throws {
        let policy = try #require(try Self.load("rollout: {canary: 1}\n").policy)
        #expect(policy.bake == .seconds(0) && policy.analysis == nil)
    }

    @Test(arguments: [
        ("analysis: {metrics: []}\n", "1:", "lists no metric"),
        ("analysis:\n  metrics:\n    - name: e\n      query: 'up{slot={{slot}}}'\n      max: 1\n", "4:14", "inside a double-quoted label value"),
        ("analysis:\n  metrics:\n    - name: e\n      query: up\n", "3:7", "needs a verdict"),
        ("analysis:\n  metrics:\n    - name: e\n      query: up\n      max: 1\n      maxIncrease: 2\n", "3:7", "both a threshold"),
        ("analysis:\n  metrics:\n    - name: e\n      query: up\n      max: lots\n", "5:12", "must be a number"),
        ("analysis:\n  metrics:\n    - name: e\n      query: up\n      min: 2\n      max: 1\n", "3:7", "is above its max"),
        ("analysis:\n  metrics:\n    - name: e\n      query: up\n      maxIncrease: 0.5\n", "5:20", "a factor from 1"),
        ("analysis:\n  metrics:\n    - name: e\n      query: up\n      max: 1\n      count: 2\n      failureLimit: 2\n", "7:21", "less than `count`"),
        ("analysis:\n  metrics:\n    - name: e\n      query: up\n      max: 1\n      noData: skip\n", "6:15", "`hold`, `fail`, `pass`"),
        ("analysis:\n  metrics:\n    - name: e\n      query: up\n      max: 1\n    - name: e\n      query: up\n      max: 2\n", "6:7", "repeats the name"),
        ("analysis:\n  metrics:\n    - name: 'a b'\n      query: up\n      max: 1\n", "3:13", "must be a short name"),
        ("analysis:\n  metrics:\n    - name: e\n      query: up\n      max: 1\n      threshold: 2\n", "6:7", "unknown key `threshold`"),
        ("bake: forever\n", "1:7", "must be a duration"),
        ("bake: 2d\n", "1:7", "must be a duration"),
    ])
    func mistakesAreReportedWhereTheyAre(_ policy: String, _ location: String, _ message: String) throws {
        let report = try Self.load(policy)
        let found = report.diagnostics.map(\.description)
        #expect(found.contains { $0.contains("Policies/prod.yaml:\(location)") && $0.contains(message) },
                "expected Policies/prod.yaml:\(location)… \(message), got \(found)")
        #expect(report.hasErrors)
    }
}
