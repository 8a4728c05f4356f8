import Foundation

extension TestFleet {
    /// The resident agent processes (`pinwheel_resident.py`, what `watch` keeps on each host) running under this fleet's
    /// sshds: found by their command line, whose program is the loop's source, and an ancestor whose command line names
    /// the fleet's folder.
    public func residentAgents() -> [pid_t] {
        let marker = "Pinwheel's resident agent loop"
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }
        return pids.filter { pid in
            guard Self.commandLine(pid).contains(marker) else { return false }
            var current = pid
            for _ in 0..<8 {
                guard let parent = Self.parent(of: current), parent > 1 else { return false }
                if Self.commandLine(parent).contains(directory) { return true }
                current = parent
            }
            return false
        }
    }

    /// The processes whose parent is `pid`.
    public static func children(of pid: pid_t) -> [pid_t] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }.filter { parent(of: $0) == pid }
    }

    static func commandLine(_ pid: pid_t) -> String {
        FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    static func parent(of pid: pid_t) -> pid_t? {
        guard let stat = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        let text = String(decoding: stat, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? pid_t(fields[1]) : nil
    }
}
