import Foundation

/// Reads a PEP 751 lock file (`pylock.toml`, `pylock.<name>.toml`) as a slot file: checked against the PEP and turned
/// into the slot's exact pins.
///
/// Each package becomes `name==version ; marker` with the hashes of all its artifacts (wheels and sdist), so hosts
/// install exactly the locked files, checked by hash, from the environment's `source:` with the same `--no-deps
/// --require-hashes` install as a hashed requirements file — on hosts with uv or with pip alone, which cannot read a
/// lock file yet. What a slot cannot install from an index (VCS, directory or archive packages) is refused.
struct PylockParser {
    let path: String
    let log: DiagnosticLog
    /// The slot's hosts, for `requires-python`: a lock for another Python is refused where the version is known.
    let facts: MarkerFacts

    /// The major version of `lock-version` this reader understands.
    static let lockMajor = 1

    /// Whether `file` is named as PEP 751 names lock files: `pylock.toml` or `pylock.<name>.toml`.
    static func isLockFileName(_ file: String) -> Bool {
        let name = file.split(separator: "/").last.map(String.init) ?? file
        guard name.hasPrefix("pylock."), name.hasSuffix(".toml") else { return false }
        let middle = name.dropFirst("pylock.".count).dropLast(".toml".count)
        return name == "pylock.toml" || (!middle.isEmpty && !middle.contains("."))
    }

    func parse(_ text: String) -> [Pin] {
        if let tooLarge = ConfigLimits.sizeError(of: text) {
            log.error(tooLarge, at: SourceLocation(path: path), hint: "a lock file of a few hundred packages is far smaller")
            return []
        }
        let table: TOMLNode.Table
        switch TOMLReader.parse(text) {
        case .success(let parsed):
            table = parsed
        case .failure(let failure):
            log.error("not valid TOML: \(failure.message)", at: SourceLocation(path: path, line: failure.line, column: failure.column),
                      hint: "regenerate the lock (`uv pip compile --format pylock.toml`, `pip lock`) rather than editing it")
            return []
        }
        guard checkTopLevel(table) else { return [] }
        guard let packagesNode = table["packages"], let packages = packagesNode.array else {
            log.error(table["packages"] != nil ? "`packages` must be an array of tables (`[[packages]]`)" : "the lock has no `[[packages]]`",
                      at: table["packages"]?.location(in: path) ?? SourceLocation(path: path),
                      hint: "a slot's lock lists every package it installs")
            return []
        }
        var pins: [Pin] = []
        var seen: [String: [(pin: Pin, marker: Marker?, index: Int)]] = [:]
        var budget = Marker.checkBudget
        for (index, element) in packages.enumerated() {
            guard let package = element.table else {
                log.error("entry \(index + 1) of `packages` is not a table", at: element.location(in: path))
                continue
            }
            guard let pin = parsePackage(package, at: element, index: index) else { continue }
            let marker = pin.markerExpression
            if checkAlternatives(pin, marker, at: element, index: index, earlier: seen[pin.normalizedName] ?? [], budget: &budget) {
                seen[pin.normalizedName, default: []].append((pin, marker, index))
                pins.append(pin)
            }
        }
        if pins.isEmpty && !log.hasErrors {
            log.error("the lock installs no package", at: SourceLocation(path: path),
                      hint: "a slot's lock lists every package it installs")
        }
        return pins
    }

    // MARK: The lock

    /// Where `key` of `table` is written; `fallback` (the table itself) when it is not.
    private func location(_ table: TOMLNode.Table, _ key: String, or fallback: TOMLNode? = nil) -> SourceLocation {
        table[key]?.location(in: path) ?? fallback?.location(in: path) ?? SourceLocation(path: path)
    }

    private func checkTopLevel(_ table: TOMLNode.Table) -> Bool {
        guard let version = table["lock-version"]?.string else {
            log.error(table["lock-version"] == nil ? "the lock has no `lock-version`" : "`lock-version` must be a string such as \"1.0\"",
                      at: location(table, "lock-version"), hint: "PEP 751 locks start with `lock-version = \"1.0\"`")
            return false
        }
        let parts = version.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]), major >= 0, minor >= 0 else {
            log.error("`lock-version` must be MAJOR.MINOR, found `\(Quote.excerpt(version))`", at: location(table, "lock-version"))
            return false
        }
        guard major == Self.lockMajor else {
            log.error("lock-version \(Quote.excerpt(version)) is not one Pinwheel reads (it reads \(Self.lockMajor).x)",
                      at: location(table, "lock-version"),
                      hint: "a new major version may change what a lock means; write a \(Self.lockMajor).x lock")
            return false
        }
        if minor > 0 {
            log.warning("lock-version \(version) is newer than the 1.0 Pinwheel knows; keys it does not know are ignored",
                        at: location(table, "lock-version"))
        }
        var ok = true
        if let createdBy = table["created-by"], createdBy.string == nil {
            log.error("`created-by` must be a string", at: location(table, "created-by"))
            ok = false
        } else if table["created-by"] == nil {
            log.error("the lock has no `created-by`", at: SourceLocation(path: path),
                      hint: "PEP 751 requires the name of the tool that wrote the lock")
            ok = false
        }
        if let environments = table["environments"] {
            if let list = environments.array, list.allSatisfy({ $0.string != nil }) {
                var markers: [Marker] = []
                for node in list {
                    switch MarkerParser.parse(node.string ?? "") {
                    case .success(let marker):
                        markers.append(marker)
                    case .failure(let failure):
                        // The marker's text starts after the opening quote of a one-line string.
                        log.error("a marker of `environments` is not valid: \(failure.message)",
                                  at: SourceLocation(path: path, line: node.line, column: node.column + 1 + failure.offset))
                        ok = false
                    }
                }
                // The lock says which environments it is for: a slot's hosts that are none of them cannot use it.
                if ok, !markers.isEmpty, markers.allSatisfy({ $0.evaluate(facts) == false }) {
                    log.error("the lock is only for environments (`environments`) that this slot's hosts (Linux"
                              + (facts.pythonDescription.map { ", python \($0)" } ?? "") + ") are not",
                              at: location(table, "environments"), hint: "lock for these hosts, e.g. with `uv pip compile --universal`")
                    ok = false
                }
            } else {
                log.error("`environments` must be an array of marker strings", at: location(table, "environments"))
                ok = false
            }
        }
        if let requires = table["requires-python"] {
            ok = checkRequiresPython(requires, "the lock", at: location(table, "requires-python")) && ok
        }
        for key in ["extras", "dependency-groups", "default-groups"] {
            guard let value = table[key] else { continue }
            guard let list = value.array, list.allSatisfy({ $0.string != nil }) else {
                log.error("`\(key)` must be an array of strings", at: location(table, key))
                ok = false
                continue
            }
        }
        return ok
    }

    /// `requires-python`: a PEP 440 specifier set; refused when the slot's Python is known and outside it.
    private func checkRequiresPython(_ value: TOMLNode, _ owner: String, at location: SourceLocation) -> Bool {
        guard let text = value.string else {
            log.error("`requires-python` of \(owner) must be a string such as \">=3.10\"", at: location)
            return false
        }
        var markers: [Marker] = []
        for clause in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let spelled = ["===", "~=", "==", "!=", "<=", ">=", "<", ">"].first { clause.hasPrefix($0) }
            let version = spelled.map { clause.dropFirst($0.count).trimmingCharacters(in: .whitespaces) } ?? ""
            guard let spelled, let op = Marker.Operator(rawValue: spelled), !version.isEmpty,
                  MarkerVersion(version.hasSuffix(".*") ? String(version.dropLast(2)) : version) != nil else {
                log.error("`requires-python` of \(owner) is not a version specifier: `\(Quote.excerpt(text))`", at: location,
                          hint: "write PEP 440 clauses such as `>=3.10` or `>=3.10,<3.14`")
                return false
            }
            markers.append(.compare(.variable(.pythonFullVersion), op, .literal(version)))
        }
        if let python = facts.pythonDescription, let clause = markers.first(where: { $0.evaluate(facts) == false }) {
            log.error("\(owner) requires python \(Quote.excerpt(text)), and this slot's hosts run python \(python)", at: location,
                      hint: "regenerate the lock for that Python, or give the slot the interpreter the lock is for (it fails `\(clause)`)")
            return false
        }
        return true
    }

    // MARK: Packages

    private func parsePackage(_ package: TOMLNode.Table, at node: TOMLNode, index: Int) -> Pin? {
        let here = "package \(index + 1)"
        guard let name = package["name"]?.string else {
            log.error("\(here) has no `name` string", at: location(package, "name", or: node), hint: "every `[[packages]]` names its package")
            return nil
        }
        guard RequirementsParser.isValidName(name) else {
            log.error("`\(Quote.excerpt(name))` is not a valid package name", at: location(package, "name", or: node),
                      hint: "package names are letters, digits, `.`, `_` and `-`, starting and ending with a letter or digit (PEP 508)")
            return nil
        }
        let label = "`\(Quote.excerpt(name))`"
        var failed = false
        for source in ["vcs", "directory", "archive"] where package[source] != nil {
            log.error("\(label) is locked to a \(source == "vcs" ? "VCS checkout" : source), which a slot cannot install",
                      at: location(package, source, or: node),
                      hint: "slots install from `source:` in environment.yaml; publish the package to the index and lock its version"
                          + (source == "directory" ? " (`uv export --no-emit-project` leaves the project itself out)" : ""))
            failed = true
        }
        if failed { return nil }
        guard let version = package["version"]?.string else {
            log.error("\(label) has no `version` string", at: location(package, package["version"] == nil ? "name" : "version", or: node),
                      hint: "a slot pins exact versions: lock packages from an index, which records them")
            return nil
        }
        guard RequirementsParser.isValidVersion(version) else {
            log.error("`\(Quote.excerpt(version))` is not a valid version of \(label)", at: location(package, "version", or: node),
                      hint: "versions follow PEP 440, such as `1.2.0`, `2.0.0rc1` or `1.0.post1`")
            return nil
        }
        var marker: String?
        if let value = package["marker"] {
            let location = location(package, "marker", or: node)
            guard let text = value.string else {
                log.error("`marker` of \(label) must be a string", at: location)
                return nil
            }
            if case .failure(let failure) = MarkerParser.parse(text) {
                // The marker's text starts after the opening quote of a one-line string.
                let column = location.column + 1 + failure.offset
                log.error("the marker of \(label) is not valid: \(failure.message)", at: SourceLocation(path: path, line: location.line, column: column),
                          hint: "PEP 508 markers compare variables such as `python_full_version` with quoted strings; "
                              + "markers on `extras` or `dependency_groups` need an installer that reads the lock itself")
                return nil
            }
            marker = text
        }
        if let requires = package["requires-python"],
           !checkRequiresPython(requires, label, at: location(package, "requires-python", or: node)) {
            return nil
        }
        var hashes: [String] = []
        var artifacts = 0
        if let sdist = package["sdist"] {
            guard let table = sdist.table else {
                log.error("`sdist` of \(label) must be a table", at: location(package, "sdist", or: node))
                return nil
            }
            guard let found = artifactHashes(table, "the sdist of \(label)", at: location(package, "sdist", or: node)) else { return nil }
            hashes += found
            artifacts += 1
        }
        if let wheels = package["wheels"] {
            guard let list = wheels.array else {
                log.error("`wheels` of \(label) must be an array of tables", at: location(package, "wheels", or: node))
                return nil
            }
            for (entry, wheel) in list.enumerated() {
                guard let table = wheel.table else {
                    log.error("wheel \(entry + 1) of \(label) is not a table", at: wheel.location(in: path))
                    failed = true
                    continue
                }
                guard let found = artifactHashes(table, "wheel \(entry + 1) of \(label)", at: wheel.location(in: path)) else {
                    failed = true
                    continue
                }
                hashes += found
                artifacts += 1
            }
        }
        if failed { return nil }
        guard artifacts > 0 else {
            log.error("\(label) lists no `wheels` and no `sdist`", at: node.location(in: path),
                      hint: "a slot installs locked files from the index; regenerate the lock")
            return nil
        }
        return Pin(name: name, version: version, hashes: Array(Set(hashes)).sorted(), marker: marker)
    }

    /// The hashes pip can check (`sha256:…`, `sha384:…`, `sha512:…`) of one artifact, after checking its fields.
    private func artifactHashes(_ artifact: TOMLNode.Table, _ what: String, at location: SourceLocation) -> [String]? {
        if artifact["url"] == nil && artifact["path"] == nil {
            log.error("\(what) has neither `url` nor `path`", at: location, hint: "PEP 751 requires one of them")
            return nil
        }
        for key in ["url", "path", "name"] {
            if let value = artifact[key], value.string == nil {
                log.error("`\(key)` of \(what) must be a string", at: location)
                return nil
            }
        }
        if let size = artifact["size"], (size.integer ?? -1) < 0 {
            log.error("`size` of \(what) must be a whole number of bytes", at: location)
            return nil
        }
        guard let table = artifact["hashes"]?.table, !table.keys.isEmpty else {
            log.error("\(what) has no `hashes`", at: location, hint: "PEP 751 requires at least one hash of every file; sha256 is the one pip checks")
            return nil
        }
        var usable: [String] = []
        for algorithm in table.keys {
            guard let digest = table[algorithm]?.string else {
                log.error("hash `\(Quote.excerpt(algorithm))` of \(what) must be a string", at: location)
                return nil
            }
            let value = "\(algorithm.lowercased()):\(digest.lowercased())"
            if ["sha256", "sha384", "sha512"].contains(algorithm.lowercased()) {
                guard RequirementsParser.isValidHash(value) else {
                    log.error("the \(algorithm) hash of \(what) is not a hex digest of the right length", at: location)
                    return nil
                }
                usable.append(value)
            }
        }
        guard !usable.isEmpty else {
            log.error("\(what) has no sha256, sha384 or sha512 hash", at: location,
                      hint: "hosts check every file by hash with pip's or uv's `--require-hashes`, which read only these")
            return nil
        }
        return usable
    }

    /// One package may be locked more than once only under mutually exclusive markers, as in a requirements file.
    private func checkAlternatives(_ pin: Pin, _ marker: Marker?, at node: TOMLNode, index: Int, earlier: [(pin: Pin, marker: Marker?, index: Int)],
                                   budget: inout Int) -> Bool {
        guard earlier.count < Marker.maximumAlternatives else {
            log.error("`\(Quote.excerpt(pin.name))` is locked more than \(Marker.maximumAlternatives) times", at: node.location(in: path),
                      hint: "a universal lock locks a package a few times at most")
            return false
        }
        for previous in earlier {
            let problem: String
            switch Marker.overlap(previous.marker, marker, budget: &budget) {
            case .exclusive:
                continue
            case .overlap(let witness):
                problem = "both markers hold for \(witness)"
            case .undecided:
                problem = "its markers are too complex to prove that they exclude each other"
            }
            log.error("`\(Quote.excerpt(pin.name))` is locked twice for the same environments", at: node.location(in: path),
                      hint: "package \(previous.index + 1) locks it too and \(problem); regenerate the lock")
            return false
        }
        return true
    }
}
