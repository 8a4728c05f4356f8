import Yams

extension EnvironmentParser {
    /// `hooks:`: each hook a command (`prepare: django-admin collectstatic --noinput`) or a mapping with `command`,
    /// `timeout`, `program` and, for the switch hooks, `onRollback`. Nil after reporting a problem.
    func parseHooks(_ node: Node, programs: [Program]) -> ReleaseHooks? {
        guard let fields = reader.mapping(node, "`hooks`", optional: ReleaseHooks.Kind.allCases.map(\.rawValue)) else { return nil }
        var hooks = ReleaseHooks()
        var failed = false
        for kind in ReleaseHooks.Kind.allCases {
            guard let hookNode = fields[kind.rawValue] else { continue }
            guard let hook = parseHook(hookNode, kind, programs: programs) else {
                failed = true
                continue
            }
            switch kind {
            case .prepare: hooks.prepare = hook
            case .beforeSwitch: hooks.beforeSwitch = hook
            case .afterSwitch: hooks.afterSwitch = hook
            }
        }
        return failed ? nil : hooks
    }

    private func parseHook(_ node: Node, _ kind: ReleaseHooks.Kind, programs: [Program]) -> ReleaseHooks.Hook? {
        let what = "hook `\(kind.rawValue)`"
        // The program whose environment the hook gets: the first web program, else the first program.
        let defaultProgram = (programs.first { $0.isWeb } ?? programs.first)?.name ?? ""
        var commandNode = node
        var hook = ReleaseHooks.Hook(command: "", program: defaultProgram)
        var failed = false
        if case .mapping = node {
            let optional = ["timeout", "program"] + (kind == .prepare ? [] : ["onRollback"])
            guard let fields = reader.mapping(node, what, required: ["command"], optional: optional) else { return nil }
            guard let command = fields["command"] else { return nil }
            commandNode = command
            if let timeout = fields["timeout"] {
                if let value = reader.duration(timeout, "`timeout` of \(what)", in: ConfigDuration.seconds(1)...ConfigDuration.seconds(6 * 3600)) {
                    hook.timeout = value
                } else {
                    failed = true
                }
            }
            if let rollback = fields["onRollback"] {
                if let value = reader.boolean(rollback, "`onRollback` of \(what)") { hook.onRollback = value } else { failed = true }
            }
            if let programNode = fields["program"], let name = reader.string(programNode, "`program` of \(what)") {
                if programs.contains(where: { $0.name == name }) {
                    hook.program = name
                } else {
                    reader.error("`program` of \(what) names `\(Quote.excerpt(name))`, which is not a program of this environment", at: programNode,
                                 hint: ConfigReader.suggestion(for: name, among: programs.map(\.name)))
                    failed = true
                }
            }
        }
        guard let command = reader.string(commandNode, "the command of \(what)") else { return nil }
        if let problem = ValueRules.commandProblem(command) {
            reader.error("the command of \(what) \(problem)", at: commandNode)
            return nil
        }
        hook.command = command
        return failed ? nil : hook
    }
}
