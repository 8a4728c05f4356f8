import CMalloc
import Foundation

/// The process's own figures that a leak moves: the allocator's bytes in use (its statistics, not the resident set,
/// which the allocator keeps after a free) and the open file descriptors.
enum HeapStatistics {
    /// Bytes handed out by malloc and not freed: small blocks in every arena plus blocks mapped on their own.
    static func bytesInUse() -> Int {
        Int(pw_heap_bytes_in_use())
    }

    /// What each open descriptor refers to (a path, `pipe:[…]`, `socket:[…]`).
    static func openDescriptorTargets() -> [String] {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return descriptors.map { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) ?? "?" }
    }
}
