extension ReleasePlan {
    /// What `pinwheel promote TARGET --from SOURCE` writes: the target's idle slot file becomes the source's active
    /// slot's pins, exactly (markers and hashes too), and the target's `active:` flips to it. Pure, like ``make``.
    ///
    /// Refused when the source's active slot and the target's idle slot build with different pythons (the promotion
    /// gate compares both, so the result could never be promoted) or when the target's active slot already pins the
    /// same.
    public static func promote(_ target: Environment, environmentText: String, from source: Environment) throws(ReleaseError) -> ReleasePlan {
        guard source.name != target.name else { throw ReleaseError("promote \(target.name) from another environment, not itself") }
        let sourcePython = source.python(of: source.active)
        let targetPython = target.python(of: target.idle)
        guard sourcePython == targetPython else {
            throw ReleaseError("\(source.name) builds slot \(source.active) with python \(sourcePython) and \(target.name) builds "
                               + "slot \(target.idle) with \(targetPython): a promotion copies the pins of one python to the same "
                               + "python; make them the same first")
        }
        if target.slots[target.idle].isPylock {
            throw ReleaseError("slot \(target.idle) of \(target.name) is a PEP 751 lock (\(target.slots[target.idle].file)), which pinwheel "
                               + "does not write: copy \(source.name)'s slot \(source.active) file "
                               + "(\(source.slots[source.active].file)) over it, or lock the same packages again, and set `active: \(target.idle)`")
        }
        let sourcePins = source.slots[source.active].pins
        let activePins = target.slots[target.active].pins
        guard sourcePins.map(\.description).sorted() != activePins.map(\.description).sorted() else {
            throw ReleaseError("\(target.name)'s active slot \(target.active) already pins what \(source.name) runs "
                               + "(slot \(source.active)): nothing to promote")
        }
        let idle = target.idle
        guard let flipped = flipActive(environmentText, to: idle) else {
            throw ReleaseError("cannot find a top-level `active: \(target.active)` line in \(environmentPath(target.name)); flip it by hand")
        }
        // What changes, for the message: each pin whose version differs from the active slot's, or that is new.
        var changes: [Change] = []
        // A package pinned under several markers is compared marker by marker.
        func before(_ pin: Pin) -> Pin? {
            activePins.first { $0.normalizedName == pin.normalizedName && $0.marker == pin.marker }
                ?? activePins.first { $0.normalizedName == pin.normalizedName }
        }
        for pin in sourcePins where before(pin)?.version != pin.version {
            changes.append(Change(name: pin.name, version: pin.version))
        }
        let folder = "\(ConfigLoader.environmentsFolder)/\(target.name)"
        let header = "# Slot \(idle) of \(target.name): the pins of \(source.name)'s slot \(source.active) (written by pinwheel promote).\n"
        return ReleasePlan(
            slot: idle,
            files: [
                "\(folder)/\(target.slots[idle].file)": header + slotFileText(sourcePins),
                environmentPath(target.name): flipped,
            ],
            pins: sourcePins, warnings: [], changes: changes)
    }

    /// `production: promote from staging: hello-service 1.1.0`, then what changes.
    public static func promotionMessage(environment: String, source: String, changes: [Change], diff: [String]) -> String {
        var text = "\(environment): promote from \(source)"
        if !changes.isEmpty { text += ": " + changes.map(\.description).joined(separator: ", ") }
        text += "\n"
        if !diff.isEmpty { text += "\n" + diff.joined(separator: "\n") + "\n" }
        return text
    }
}
