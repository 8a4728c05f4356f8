extension Marker {
    /// Whether the marker holds where `facts` describe: true or false when the facts decide it, nil when the answer
    /// depends on something they do not know (then pip decides on the host). `and` and `or` follow three-valued
    /// logic, so `sys_platform == 'win32' and platform_machine == 'x86_64'` is false on Linux whatever the machine.
    public func evaluate(_ facts: MarkerFacts) -> Bool? {
        switch self {
        case let .and(lhs, rhs):
            let (left, right) = (lhs.evaluate(facts), rhs.evaluate(facts))
            if left == false || right == false { return false }
            return left == true && right == true ? true : nil
        case let .or(lhs, rhs):
            let (left, right) = (lhs.evaluate(facts), rhs.evaluate(facts))
            if left == true || right == true { return true }
            return left == false && right == false ? false : nil
        case let .compare(lhs, op, rhs):
            guard let lefts = Self.values(lhs, against: rhs, facts), let rights = Self.values(rhs, against: lhs, facts) else {
                return nil
            }
            var answers = Set<Bool>()
            for left in lefts {
                for right in rights {
                    answers.insert(Self.compare(left, op, right))
                }
            }
            return answers.count == 1 ? answers.first : nil
        }
    }

    private static func values(_ operand: Operand, against other: Operand, _ facts: MarkerFacts) -> [String]? {
        switch operand {
        case .literal(let text):
            return [text]
        case .variable(let variable):
            if case .literal(let literal) = other { return facts.candidates(variable, near: literal) }
            return facts.candidates(variable, near: nil)
        }
    }

    /// `lhs op rhs` as PEP 508 defines it: `rhs` is the specifier, compared by PEP 440 rules when both sides are
    /// versions, as text otherwise.
    static func compare(_ lhs: String, _ op: Operator, _ rhs: String) -> Bool {
        switch op {
        case .in:
            return rhs.contains(lhs)
        case .notIn:
            return !rhs.contains(lhs)
        case .arbitrary:
            return lhs == rhs
        default:
            break
        }
        if op == .equal || op == .notEqual, rhs.hasSuffix(".*"), let prefix = MarkerVersion(String(rhs.dropLast(2))),
           prefix.pre == nil, let version = MarkerVersion(lhs) {
            let matches = version.padded(prefix.release.count).prefix(prefix.release.count).elementsEqual(prefix.release)
            return op == .equal ? matches : !matches
        }
        guard let left = MarkerVersion(lhs), let right = MarkerVersion(rhs) else {
            switch op {
            case .equal: return lhs == rhs
            case .notEqual: return lhs != rhs
            case .less: return lhs < rhs
            case .lessOrEqual: return lhs <= rhs
            case .greater: return lhs > rhs
            case .greaterOrEqual: return lhs >= rhs
            default: return false
            }
        }
        switch op {
        case .equal: return left == right
        case .notEqual: return left != right
        case .less: return left < right
        case .lessOrEqual: return left <= right
        case .greater: return left > right
        case .greaterOrEqual: return left >= right
        case .compatible:
            // `~=3.10.2` is `>=3.10.2, ==3.10.*`; PEP 440 needs at least two release numbers.
            guard right.release.count >= 2, left >= right else { return false }
            let prefix = Array(right.release.dropLast())
            return left.padded(prefix.count).prefix(prefix.count).elementsEqual(prefix)
        default:
            return false
        }
    }
}
