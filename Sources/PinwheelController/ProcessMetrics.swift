import CoreMetrics
import Foundation
import Synchronization

/// The controller process's own figures, in the names Prometheus's client libraries give them (`process_…`), read
/// from `/proc/self` when `/metrics` is scraped: CPU seconds, resident and virtual memory, open and allowed file
/// descriptors, and the start time. swift-prometheus has no process collector, so these go through swift-metrics
/// like the controller's other metrics.
public final class ProcessMetrics: Sendable {
    public enum Name {
        public static let cpuSeconds = "process_cpu_seconds_total"
        public static let residentMemory = "process_resident_memory_bytes"
        public static let virtualMemory = "process_virtual_memory_bytes"
        public static let openFileDescriptors = "process_open_fds"
        public static let maxFileDescriptors = "process_max_fds"
        public static let startTime = "process_start_time_seconds"
    }

    /// What one reading of /proc/self says.
    public struct Sample: Sendable, Equatable {
        public var cpuSeconds: Double
        public var residentBytes: Double
        public var virtualBytes: Double
        public var openFileDescriptors: Double
        public var maxFileDescriptors: Double
        public var startTime: Double
    }

    private let cpu: FloatingPointCounter
    private let resident: Gauge
    private let virtual: Gauge
    private let open: Gauge
    private let max: Gauge
    private let start: Gauge
    /// The CPU seconds already counted: the counter only goes up, by what was used since.
    private let counted = Mutex<Double>(0)

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        cpu = FloatingPointCounter(label: Name.cpuSeconds, factory: factory)
        resident = Gauge(label: Name.residentMemory, factory: factory)
        virtual = Gauge(label: Name.virtualMemory, factory: factory)
        open = Gauge(label: Name.openFileDescriptors, factory: factory)
        max = Gauge(label: Name.maxFileDescriptors, factory: factory)
        start = Gauge(label: Name.startTime, factory: factory)
    }

    /// Reads /proc/self and records it; does nothing where there is no /proc.
    public func update() {
        guard let sample = Self.read() else { return }
        record(sample)
    }

    func record(_ sample: Sample) {
        let delta = counted.withLock { counted -> Double in
            let delta = Swift.max(0, sample.cpuSeconds - counted)
            counted += delta
            return delta
        }
        if delta > 0 { cpu.increment(by: delta) }
        resident.record(sample.residentBytes)
        virtual.record(sample.virtualBytes)
        open.record(sample.openFileDescriptors)
        max.record(sample.maxFileDescriptors)
        start.record(sample.startTime)
    }

    /// This process's figures from /proc, or nil where it cannot be read.
    static func read() -> Sample? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let uptimeText = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
              let limits = try? String(contentsOfFile: "/proc/self/limits", encoding: .utf8),
              let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"),
              let uptime = Double(uptimeText.split(separator: " ").first ?? "")
        else { return nil }
        return parse(stat: stat, limits: limits, openDescriptors: descriptors.count, uptime: uptime,
                     now: Date().timeIntervalSince1970, ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))),
                     pageSize: Double(sysconf(Int32(_SC_PAGESIZE))))
    }

    /// The sample in `/proc/self/stat` and `/proc/self/limits` (pure, so it is tested on fixed text).
    static func parse(stat: String, limits: String, openDescriptors: Int, uptime: Double, now: Double,
                      ticksPerSecond: Double, pageSize: Double) -> Sample? {
        // The command name (field 2) may hold spaces and parentheses: the fields after it start after the last ')'.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state): field N is fields[N - 3].
        guard fields.count > 21, let utime = Double(fields[11]), let stime = Double(fields[12]),
              let startTicks = Double(fields[19]), let virtualBytes = Double(fields[20]), let residentPages = Double(fields[21])
        else { return nil }
        let maxOpen = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") }
            .flatMap { line in line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first }
            .flatMap { Double($0) } ?? 0
        return Sample(cpuSeconds: (utime + stime) / ticksPerSecond, residentBytes: residentPages * pageSize,
                      virtualBytes: virtualBytes, openFileDescriptors: Double(openDescriptors), maxFileDescriptors: maxOpen,
                      startTime: now - uptime + startTicks / ticksPerSecond)
    }
}
