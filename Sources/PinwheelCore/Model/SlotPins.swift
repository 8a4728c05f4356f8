/// The contents of one slot: the file it was read from and its exact pins, sorted by normalised name.
public struct SlotPins: Sendable, Hashable, Codable {
    /// The requirements file, relative to the environment folder.
    public var file: String
    public var pins: [Pin]
    /// The slot's own interpreter (`slots: {B: {pins: B.txt, python: ...}}`); nil uses the environment's.
    /// Upgrading Python is then an ordinary release into the idle slot, with an instant rollback.
    public var python: String?

    public init(file: String, pins: [Pin], python: String? = nil) {
        self.file = file
        // A package pinned under several markers keeps one order (by marker), so equal files give equal text.
        self.pins = pins.sorted { ($0.normalizedName, $0.marker ?? "") < ($1.normalizedName, $1.marker ?? "") }
        self.python = python
    }

    /// Whether the slot file is a PEP 751 lock (`pylock.A.toml`) rather than a requirements file.
    public var isPylock: Bool { PylockParser.isLockFileName(file) }

    /// The first pin of `name`; see ``alternatives(named:)`` for a package pinned under several markers.
    public func pin(named name: String) -> Pin? {
        let normalized = Pin.normalize(name)
        return pins.first { $0.normalizedName == normalized }
    }

    /// Every pin of `name`: one, or several under mutually exclusive markers.
    public func alternatives(named name: String) -> [Pin] {
        let normalized = Pin.normalize(name)
        return pins.filter { $0.normalizedName == normalized }
    }

    /// The requirements file content as installed on a host: one pin per line, sorted, so equal pins give equal text.
    public var requirementsText: String {
        pins.map { $0.requirement + "\n" }.joined()
    }
}
