extension SlotPins {
    /// The pins a host described by `facts` may install: those whose marker holds there or cannot be decided without
    /// the host (pip decides there). When the slot's interpreter version is known, a package pinned under several
    /// markers keeps the one pin that version gets; when it is not, every alternative stays, with its marker.
    public func pins(for facts: MarkerFacts) -> [Pin] {
        pins.filter { $0.applies(facts) != false }
    }

    /// The pins that such a host never installs: their markers are false there (another Python, Windows).
    public func skipped(for facts: MarkerFacts) -> [Pin] {
        pins.filter { $0.applies(facts) == false }
    }
}
