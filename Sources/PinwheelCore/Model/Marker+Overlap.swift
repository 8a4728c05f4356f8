extension Marker {
    /// Whether two pins' markers can hold at once, the question a file that pins one package twice must answer "never".
    public enum Overlap: Sendable, Hashable {
        /// No environment satisfies both.
        case exclusive
        /// Both hold here, for example `python_full_version 3.12.0`.
        case overlap(witness: String)
        /// Too many cases to try: the markers are far larger than any lock writes.
        case undecided
    }

    /// Decides whether `a` and `b` (nil: no marker, which always holds) can both hold, by trying every environment
    /// that differs where the markers could tell a difference: each version they compare with and its neighbours at
    /// every precision (`3.12` gives 3.11.99, 3.12.0, 3.13.0, 2.x, 4.0), each string they compare with and its words,
    /// and one value none of them names. Comparisons only change their answer at such boundaries, so trying these
    /// is as good as trying all.
    public static func overlap(_ a: Marker?, _ b: Marker?) -> Overlap {
        var budget = 50_000
        return overlap(a, b, budget: &budget)
    }

    /// The same, trying at most `budget` environments, and taking those it tries from the budget: a file's checks
    /// share one, so a hostile file of many alternatives costs bounded time.
    public static func overlap(_ a: Marker?, _ b: Marker?, budget: inout Int) -> Overlap {
        var literals: [Variable: Set<String>] = [:]
        a?.collectLiterals(into: &literals)
        b?.collectLiterals(into: &literals)

        // The interpreter's version is one fact that `python_version` and `python_full_version` both read.
        var pythons = Set<[Int]>()
        for variable in [Variable.pythonVersion, .pythonFullVersion] {
            for literal in literals[variable] ?? [] {
                guard let version = MarkerVersion(literal) else { continue }
                for neighbour in neighbours(of: version.release) {
                    pythons.insert(Array(neighbour.prefix(3)) + Array(repeating: 0, count: max(0, 3 - neighbour.count)))
                }
            }
        }
        if pythons.isEmpty { pythons = [[3, 12, 0]] }
        let pythonChoices = pythons.sorted { $0.lexicographicallyPrecedes($1) }

        let others = literals.keys.filter { !$0.isPython }.sorted()
        var choices: [[String]] = []
        for variable in others {
            var values: Set<String> = ["\u{1}other"]
            for literal in literals[variable] ?? [] {
                values.insert(literal)
                values.formUnion(literal.split(separator: " ").map(String.init))
                if let version = MarkerVersion(literal) {
                    values.formUnion(neighbours(of: version.release).map { $0.map(String.init).joined(separator: ".") })
                }
            }
            choices.append(values.sorted())
        }
        var total = pythonChoices.count
        for values in choices {
            total = total.multipliedReportingOverflow(by: values.count).partialValue
            if total > budget || total <= 0 { return .undecided }
        }
        guard total <= budget else { return .undecided }
        budget -= total

        var indices = Array(repeating: 0, count: choices.count)
        for python in pythonChoices {
            while true {
                var values: [Variable: String] = [:]
                for (position, variable) in others.enumerated() { values[variable] = choices[position][indices[position]] }
                let world = MarkerFacts(python: python, values: values)
                if holds(a, in: world), holds(b, in: world) {
                    var witness = ["python_full_version \(python.map(String.init).joined(separator: "."))"]
                    witness += others.compactMap { variable in
                        values[variable].flatMap { $0.hasPrefix("\u{1}") ? nil : "\(variable.rawValue) \($0)" }
                    }
                    return .overlap(witness: witness.joined(separator: ", "))
                }
                // The next combination of the other variables, like an odometer.
                var position = choices.count - 1
                while position >= 0 {
                    indices[position] += 1
                    if indices[position] < choices[position].count { break }
                    indices[position] = 0
                    position -= 1
                }
                if position < 0 { break }
            }
        }
        return .exclusive
    }

    /// An absent marker always holds; an undecided one (which a complete world never gives) counts as holding, so a
    /// doubt is reported rather than missed.
    private static func holds(_ marker: Marker?, in world: MarkerFacts) -> Bool {
        guard let marker else { return true }
        return marker.evaluate(world) ?? true
    }

    /// The version itself and, at each of its first three numbers, the next one up and the one just below.
    private static func neighbours(of release: [Int]) -> [[Int]] {
        var result = [release]
        for index in 0..<min(release.count, 3) {
            let head = Array(release[..<index])
            result.append(head + [release[index] + 1, 0, 0].prefix(3 - index))
            if release[index] > 0 {
                result.append(head + [release[index] - 1, 99, 99].prefix(3 - index))
            }
        }
        return result
    }

    private func collectLiterals(into literals: inout [Variable: Set<String>]) {
        switch self {
        case let .and(lhs, rhs), let .or(lhs, rhs):
            lhs.collectLiterals(into: &literals)
            rhs.collectLiterals(into: &literals)
        case let .compare(.variable(variable), _, .literal(text)), let .compare(.literal(text), _, .variable(variable)):
            literals[variable, default: []].insert(text)
        case let .compare(.variable(lhs), _, .variable(rhs)):
            literals[lhs, default: []].formUnion([])
            literals[rhs, default: []].formUnion([])
        case .compare(.literal, _, .literal):
            break
        }
    }
}
