/// A PEP 508 environment marker, such as `python_full_version < '3.12' and sys_platform != 'win32'`.
///
/// Parsed (by ``MarkerParser``) so that Pinwheel can tell which of a package's pins a slot's interpreter gets, and
/// prove that two pins of one package never apply together, as `uv pip compile --universal` writes them. Hosts still
/// receive the marker as the slot file wrote it: pip and uv evaluate it there themselves.
public indirect enum Marker: Sendable, Hashable, CustomStringConvertible {
    case and(Marker, Marker)
    case or(Marker, Marker)
    case compare(Operand, Operator, Operand)

    public enum Operand: Sendable, Hashable, CustomStringConvertible {
        case variable(Variable)
        case literal(String)

        public var description: String {
            switch self {
            case .variable(let variable): variable.rawValue
            case .literal(let text): text.contains("'") ? "\"\(text)\"" : "'\(text)'"
            }
        }
    }

    /// How many pins one package may have in a slot file: a universal lock writes a handful; more is refused, so a
    /// hostile file cannot make the exclusivity checks take long.
    public static let maximumAlternatives = 16

    /// How many environments the exclusivity checks of one slot file may try in all (see ``overlap(_:_:budget:)``).
    public static let checkBudget = 100_000

    /// The marker variables of PEP 508 (the dotted spellings of older tools are read as these).
    public enum Variable: String, Sendable, Hashable, CaseIterable, Comparable {
        case osName = "os_name"
        case sysPlatform = "sys_platform"
        case platformMachine = "platform_machine"
        case platformPythonImplementation = "platform_python_implementation"
        case platformRelease = "platform_release"
        case platformSystem = "platform_system"
        case platformVersion = "platform_version"
        case pythonVersion = "python_version"
        case pythonFullVersion = "python_full_version"
        case implementationName = "implementation_name"
        case implementationVersion = "implementation_version"
        case extra = "extra"

        /// The name as written in a marker, including the legacy spellings `packaging` still accepts.
        public init?(spelling: String) {
            let legacy: [String: Variable] = [
                "os.name": .osName, "sys.platform": .sysPlatform, "platform.version": .platformVersion,
                "platform.machine": .platformMachine, "platform.python_implementation": .platformPythonImplementation,
                "python_implementation": .platformPythonImplementation,
            ]
            if let variable = Variable(rawValue: spelling) ?? legacy[spelling] {
                self = variable
            } else {
                return nil
            }
        }

        /// The two variables that are one fact: the interpreter's version.
        var isPython: Bool { self == .pythonVersion || self == .pythonFullVersion }

        public static func < (lhs: Variable, rhs: Variable) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public enum Operator: String, Sendable, Hashable {
        case lessOrEqual = "<="
        case less = "<"
        case notEqual = "!="
        case equal = "=="
        case greaterOrEqual = ">="
        case greater = ">"
        case compatible = "~="
        case arbitrary = "==="
        case `in` = "in"
        case notIn = "not in"
    }

    /// The marker in a canonical spelling: single quotes, single spaces, parentheses only where needed, so that
    /// parsing the description gives the same marker back.
    public var description: String {
        switch self {
        case let .compare(lhs, op, rhs):
            return "\(lhs) \(op.rawValue) \(rhs)"
        case let .and(lhs, rhs):
            // `and` binds tighter than `or`, and both group to the left.
            return "\(lhs.isOr ? "(\(lhs))" : "\(lhs)") and \(rhs.isCompare ? "\(rhs)" : "(\(rhs))")"
        case let .or(lhs, rhs):
            return "\(lhs) or \(rhs.isOr ? "(\(rhs))" : "\(rhs)")"
        }
    }

    private var isOr: Bool {
        if case .or = self { return true }
        return false
    }

    private var isCompare: Bool {
        if case .compare = self { return true }
        return false
    }

    /// Every variable the marker reads.
    public var variables: Set<Variable> {
        switch self {
        case let .and(lhs, rhs), let .or(lhs, rhs):
            return lhs.variables.union(rhs.variables)
        case let .compare(lhs, _, rhs):
            var found = Set<Variable>()
            if case .variable(let variable) = lhs { found.insert(variable) }
            if case .variable(let variable) = rhs { found.insert(variable) }
            return found
        }
    }
}
