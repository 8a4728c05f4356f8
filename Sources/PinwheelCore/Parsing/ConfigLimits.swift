/// Bounds on what a config file may hold, so that a hostile or accidental file costs bounded time and memory.
///
/// Real files are far below them: an environment file is a few kilobytes, a lock file of a large service a few
/// hundred pins.
public enum ConfigLimits {
    /// The largest file read from the config repository.
    public static let maxFileBytes = 1 << 20
    /// The most YAML nodes a file may expand to, counting every alias as the nodes it stands for: a YAML "billion
    /// laughs" (anchors that refer to anchors) is refused here instead of being walked.
    public static let maxYAMLNodes = 20_000

    /// The error for a file over `maxFileBytes`, or nil.
    static func sizeError(of text: String) -> String? {
        let size = text.utf8.count
        guard size > maxFileBytes else { return nil }
        return "the file is \(size) bytes, larger than the \(maxFileBytes) bytes Pinwheel reads from a config file"
    }
}
