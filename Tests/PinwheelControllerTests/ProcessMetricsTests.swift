import Foundation
import Prometheus
import Testing
@testable import PinwheelController

@Suite("Process metrics")
struct ProcessMetricsTests {
    static let stat = "4242 (pinwheel (watch)) S 1 4242 4242 0 -1 4194560 9000 0 0 0 250 50 0 0 20 0 12 0 360000 734003200 5000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0"
    static let limits = """
        Limit                     Soft Limit           Hard Limit           Units
        Max cpu time              unlimited            unlimited            seconds
        Max open files            1024                 524288               files
        """

    @Test func theFiguresComeFromProcSelf() throws {
        let sample = try #require(ProcessMetrics.parse(stat: Self.stat, limits: Self.limits, openDescriptors: 17, uptime: 10_000,
                                                       now: 1_800_000_000, ticksPerSecond: 100, pageSize: 4096))
        #expect(sample == ProcessMetrics.Sample(cpuSeconds: 3, residentBytes: 5000 * 4096, virtualBytes: 734_003_200,
                                                openFileDescriptors: 17, maxFileDescriptors: 1024,
                                                startTime: 1_800_000_000 - 10_000 + 3600))
        #expect(ProcessMetrics.parse(stat: "garbage", limits: "", openDescriptors: 0, uptime: 0, now: 0, ticksPerSecond: 100, pageSize: 4096) == nil)
    }

    @Test func cpuSecondsOnlyEverGoUpByWhatWasUsed() throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = ProcessMetrics(factory: PrometheusMetricsFactory(registry: registry))
        var sample = ProcessMetrics.Sample(cpuSeconds: 1.5, residentBytes: 100, virtualBytes: 200, openFileDescriptors: 3,
                                           maxFileDescriptors: 1024, startTime: 1_800_000_000)
        metrics.record(sample)
        sample.cpuSeconds = 2.25
        sample.residentBytes = 150
        metrics.record(sample)
        sample.cpuSeconds = 2.0  // never down
        metrics.record(sample)
        var exposition: [UInt8] = []
        registry.emit(into: &exposition)
        let text = String(decoding: exposition, as: UTF8.self)
        #expect(text.contains("process_cpu_seconds_total 2.25\n"), "\(text)")
        #expect(text.contains("process_resident_memory_bytes 150.0\n"), "\(text)")
        #expect(text.contains("process_max_fds 1024.0\n"), "\(text)")
        #expect(text.contains("process_start_time_seconds 1800000000.0\n"), "\(text)")
    }

    @Test func thisProcessReadsSensibly() throws {
        let sample = try #require(ProcessMetrics.read())
        #expect(sample.residentBytes > 1_048_576)
        #expect(sample.openFileDescriptors >= 3)
        #expect(sample.maxFileDescriptors >= sample.openFileDescriptors)
        #expect(abs(sample.startTime - Date().timeIntervalSince1970) < 24 * 3600)
        #expect(sample.cpuSeconds > 0)
    }
}
