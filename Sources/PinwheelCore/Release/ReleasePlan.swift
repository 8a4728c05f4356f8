import Foundation

/// What `pinwheel release` writes: the idle slot's file (the active slot's pins with some versions
/// changed) and `environment.yaml` with `active` flipped to that slot. Pure: it works on the
/// environment and the text of its `environment.yaml`; the caller validates and commits the files.
public struct ReleasePlan: Sendable, Hashable {
    /// One `NAME==VERSION` asked for on the command line.
    public struct Change: Sendable, Hashable, CustomStringConvertible {
        public var name: String
        public var version: String

        public init(name: String, version: String) {
            self.name = name
            self.version = version
        }

        /// Parses `NAME==VERSION`: a PEP 508 name and a PEP 440 version.
        public static func parse(_ text: String) throws(ReleaseError) -> Change {
            let parts = text.components(separatedBy: "==")
            guard parts.count == 2 else {
                throw ReleaseError("`\(text)` is not NAME==VERSION (for example hello-service==1.1.0)")
            }
            let name = parts[0].trimmingCharacters(in: .whitespaces)
            let version = parts[1].trimmingCharacters(in: .whitespaces)
            guard RequirementsParser.isValidName(name) else {
                throw ReleaseError("`\(name)` is not a valid package name (PEP 508: letters, digits, `.`, `_`, `-`)")
            }
            guard RequirementsParser.isValidVersion(version) else {
                throw ReleaseError("`\(version)` is not a valid version of \(name) (PEP 440, such as 1.2.0, 2.0.0rc1 or 1.0.post1)")
            }
            return Change(name: name, version: version)
        }

        public var description: String { "\(name) \(version)" }
    }

    /// The slot that becomes active.
    public var slot: Slot
    /// Paths relative to the repository root → new content.
    public var files: [String: String]
    /// The new slot's pins.
    public var pins: [Pin]
    /// Things the user should know (dropped hashes).
    public var warnings: [String]
    public var changes: [Change]

    /// Plans the release of `changes` in `environment`, whose `environment.yaml` text is `environmentText`.
    public static func make(environment: Environment, environmentText: String, changes: [Change]) throws(ReleaseError) -> ReleasePlan {
        guard !changes.isEmpty else { throw ReleaseError("name at least one NAME==VERSION to release") }
        let active = environment.active
        let idle = environment.idle
        let activePins = environment.slots[active]
        if environment.slots[idle].isPylock {
            // A lock names each version's files, sizes and hashes, which only a locker can know.
            throw ReleaseError("slot \(idle) of \(environment.name) is a PEP 751 lock (\(environment.slots[idle].file)): a new version needs "
                               + "its artifacts, sizes and hashes, which pinwheel cannot name; regenerate it (`uv pip compile --format "
                               + "pylock.toml -o \(environment.slots[idle].file)` or `pip lock`), commit it and set `active: \(idle)`")
        }
        var seen = Set<String>()
        for change in changes {
            guard seen.insert(Pin.normalize(change.name)).inserted else {
                throw ReleaseError("\(change.name) is named twice")
            }
            guard activePins.pin(named: change.name) != nil else {
                let known = activePins.pins.map(\.name).joined(separator: ", ")
                throw ReleaseError("\(change.name) is not pinned in \(environment.name)'s active slot \(active) (\(activePins.file)), "
                                   + "compared as PEP 503 normalises names; it pins: \(known). Add a new package by editing the slot file")
            }
        }

        var warnings: [String] = []
        let targets = try chooseTargets(changes, in: environment, warnings: &warnings)
        var pins = activePins.pins
        var changedHashes = false
        for index in pins.indices {
            guard targets.contains(Target(pins[index])),
                  let change = changes.first(where: { Pin.normalize($0.name) == pins[index].normalizedName }) else { continue }
            if !pins[index].hashes.isEmpty {
                changedHashes = true
                warnings.append("the hashes of \(pins[index].name) \(pins[index].version) were dropped: they do not match \(change.version)")
            }
            pins[index].version = change.version
            pins[index].hashes = []
        }
        if changedHashes, pins.contains(where: { !$0.hashes.isEmpty }) {
            // pip checks hashes for all pins or none: a file with some would be refused.
            for index in pins.indices { pins[index].hashes = [] }
            warnings.append("every other hash of slot \(idle) was dropped too (pip checks hashes for all pins or none); "
                            + "regenerate them with `uv pip compile --generate-hashes` and commit again")
        }
        if pins.map(\.version) == activePins.pins.map(\.version) {
            throw ReleaseError("the active slot \(active) already pins " + changes.map(\.description).joined(separator: ", ")
                               + ": nothing to release")
        }

        guard let flipped = flipActive(environmentText, to: idle) else {
            throw ReleaseError("cannot find a top-level `active: \(active)` line in \(environmentPath(environment.name)); flip it by hand")
        }
        let folder = "\(ConfigLoader.environmentsFolder)/\(environment.name)"
        let header = "# Slot \(idle) of \(environment.name): slot \(active)'s pins with "
            + changes.map(\.description).joined(separator: ", ") + " (written by pinwheel release).\n"
        return ReleasePlan(
            slot: idle,
            files: [
                "\(folder)/\(environment.slots[idle].file)": header + slotFileText(pins),
                environmentPath(environment.name): flipped,
            ],
            pins: pins, warnings: warnings, changes: changes)
    }

    /// One pin of the active slot, by package and marker.
    private struct Target: Hashable {
        var name: String
        var marker: String?
        init(_ pin: Pin) {
            name = pin.normalizedName
            marker = pin.marker
        }
    }

    /// The pins each change edits. A package pinned under several markers (`uv pip compile --universal`) has its
    /// version changed only in the pin the idle slot's hosts install, when their interpreter's version says which;
    /// the others are for other Pythons, and no version number can be guessed for them. When the version is not
    /// known, the release is refused: the lock must be regenerated (or the slot file edited) instead.
    private static func chooseTargets(_ changes: [Change], in environment: Environment,
                                      warnings: inout [String]) throws(ReleaseError) -> Set<Target> {
        let idle = environment.idle
        let activePins = environment.slots[environment.active]
        let facts = environment.markerFacts(of: idle)
        var targets = Set<Target>()
        for change in changes {
            let alternatives = activePins.alternatives(named: change.name)
            guard alternatives.count > 1 else {
                targets.formUnion(alternatives.map(Target.init))
                continue
            }
            let listed = alternatives.map { "\($0.version) ; \($0.marker ?? "")" }.joined(separator: ", ")
            let applying = alternatives.filter { $0.applies(facts) != false }
            switch applying.count {
            case 1:
                targets.insert(Target(applying[0]))
                let others = alternatives.filter { $0.applies(facts) == false }.map { "\($0.version) ; \($0.marker ?? "")" }
                warnings.append("only \(change.name)'s pin for slot \(idle)'s python \(facts.pythonDescription ?? "") "
                                + "(`\(applying[0].marker ?? "")`) was changed; its pins for other environments (\(others.joined(separator: ", "))) "
                                + "stay as they were: regenerate the lock (`uv pip compile --universal`) to move them too")
            case 0:
                throw ReleaseError("none of \(change.name)'s pins in slot \(environment.active) (\(listed)) is installed by slot \(idle)'s hosts "
                                   + "(\(environment.python(of: idle))): regenerate the lock (`uv pip compile --universal`) for that Python")
            default:
                throw ReleaseError("\(change.name) is pinned under several markers in slot \(environment.active) (\(listed)) and slot \(idle)'s "
                                   + "python \(environment.python(of: idle)) names no version, so pinwheel cannot tell which pin to change: "
                                   + "regenerate the lock (`uv pip compile --universal`) and commit it, or give the slot's `python:` a path "
                                   + "that names its version (/usr/bin/python3.12)")
            }
        }
        return targets
    }

    public static func environmentPath(_ name: String) -> String {
        "\(ConfigLoader.environmentsFolder)/\(name)/environment.yaml"
    }

    /// `environment.yaml` with only the slot letter of its top-level `active:` line changed, so comments and
    /// layout survive; nil when there is no such line (e.g. a flow-style document).
    public static func flipActive(_ text: String, to slot: Slot) -> String? {
        var lines = text.components(separatedBy: "\n")
        let pattern = #"^active[ \t]*:[ \t]*(["']?)([AB])\1[ \t]*(#.*)?\r?$"#
        guard let index = lines.firstIndex(where: { $0.range(of: pattern, options: .regularExpression) != nil }) else {
            return nil
        }
        let line = lines[index]
        // The letter is the first A or B after the colon.
        guard let colon = line.firstIndex(of: ":"),
              let letter = line[line.index(after: colon)...].firstIndex(where: { $0 == "A" || $0 == "B" }) else { return nil }
        lines[index] = line.replacingCharacters(in: letter...letter, with: slot.rawValue)
        return lines.joined(separator: "\n")
    }

    /// A requirements file with one pin per logical line, hashes on continuation lines as
    /// `uv pip compile --generate-hashes` writes them.
    public static func slotFileText(_ pins: [Pin]) -> String {
        pins.map { pin in
            var line = "\(pin.name)==\(pin.version)"
            if let marker = pin.marker { line += " ; \(marker)" }
            for hash in pin.hashes { line += " \\\n    --hash=\(hash)" }
            return line + "\n"
        }.joined()
    }

    /// The default commit message: `ENV: release NAME VERSION[, ...]`, then what changes in a reviewer's words.
    public static func defaultMessage(environment: String, changes: [Change], diff: [String]) -> String {
        var text = "\(environment): release " + changes.map(\.description).joined(separator: ", ") + "\n"
        if !diff.isEmpty {
            text += "\n" + diff.joined(separator: "\n") + "\n"
        }
        return text
    }
}

/// A release that cannot be made, with a message for the person who asked.
public struct ReleaseError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
