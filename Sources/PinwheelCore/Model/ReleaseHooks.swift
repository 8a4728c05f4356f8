/// Commands a release runs besides installing and switching: `prepare` in every new build, `beforeSwitch` once
/// before any traffic moves (database migrations), `afterSwitch` once after the last batch.
///
/// Each runs from the slot's venv `bin/` with a program's environment, user and directory, so a hook sees what
/// the service sees.
public struct ReleaseHooks: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case prepare
        case beforeSwitch
        case afterSwitch
    }

    public struct Hook: Sendable, Hashable, Codable {
        /// Words run without a shell; the first is looked up in the slot's venv `bin/` unless it holds a `/`.
        public var command: String
        /// The hook is ended after this long.
        public var timeout: ConfigDuration
        /// Also run when the rollout only switches back to warm slots (a rollback). Off by default: a rollback
        /// must be fast and must not depend on the code it leaves (see the expand/contract discipline).
        public var onRollback: Bool
        /// The program whose environment, user and directory the hook runs with.
        public var program: String

        public init(command: String, timeout: ConfigDuration = ReleaseHooks.defaultTimeout, onRollback: Bool = false, program: String) {
            self.command = command
            self.timeout = timeout
            self.onRollback = onRollback
            self.program = program
        }
    }

    public static let defaultTimeout = ConfigDuration.seconds(600)

    public var prepare: Hook?
    public var beforeSwitch: Hook?
    public var afterSwitch: Hook?

    public init(prepare: Hook? = nil, beforeSwitch: Hook? = nil, afterSwitch: Hook? = nil) {
        self.prepare = prepare
        self.beforeSwitch = beforeSwitch
        self.afterSwitch = afterSwitch
    }

    public subscript(kind: Kind) -> Hook? {
        switch kind {
        case .prepare: return prepare
        case .beforeSwitch: return beforeSwitch
        case .afterSwitch: return afterSwitch
        }
    }

    public var isEmpty: Bool { prepare == nil && beforeSwitch == nil && afterSwitch == nil }
}
