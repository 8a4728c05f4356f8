import Yams

extension EnvironmentParser {
    /// The settings of a program (`environment`, `envFile`, `user`, ...), each checked so that it can reach a host's
    /// supervisord config safely; nil after reporting a problem.
    func parseSettings(_ fields: Fields, _ what: String, isWeb: Bool) -> ProgramSettings? {
        var settings = ProgramSettings()
        var failed = false
        func fail<Value>(_ value: Value?) -> Value? {
            if value == nil { failed = true }
            return value
        }
        if let node = fields["environment"] {
            settings.environment = fail(parseVariables(node, what, isWeb: isWeb)) ?? [:]
        }
        if let node = fields["envFile"] {
            settings.envFile = fail(absolutePath(node, "`envFile` of \(what)", example: "/etc/hello/secrets.env"))
        }
        if let node = fields["user"], let user = fail(reader.string(node, "`user` of \(what)")) {
            if ValueRules.isUserName(user) {
                settings.user = user
            } else {
                reader.error("`user` of \(what) must be a user name such as `www-data`, found `\(Quote.excerpt(user))`", at: node)
                failed = true
            }
        }
        if let node = fields["directory"] {
            settings.directory = fail(absolutePath(node, "`directory` of \(what)", example: "/srv/hello"))
        }
        if let node = fields["stopSignal"] {
            settings.stopSignal = fail(reader.choice(node, "`stopSignal` of \(what)", as: StopSignal.self))
        }
        if let node = fields["stopTimeout"] {
            settings.stopTimeout = fail(reader.duration(node, "`stopTimeout` of \(what)", in: ConfigDuration(milliseconds: 0)...ConfigDuration.seconds(3600)))
        }
        if let node = fields["startSeconds"] {
            settings.startSeconds = fail(reader.integer(node, "`startSeconds` of \(what)", in: 0...600))
        }
        return failed ? nil : settings
    }

    private func absolutePath(_ node: Node, _ what: String, example: String) -> String? {
        guard let path = reader.string(node, what) else { return nil }
        guard ValueRules.isAbsolutePath(path) else {
            reader.error("\(what) must be an absolute path on the host such as `\(example)`, of letters, digits and `._/+@,=-`, found `\(Quote.excerpt(path))`", at: node)
            return nil
        }
        return path
    }

    private func parseVariables(_ node: Node, _ what: String, isWeb: Bool) -> [String: String]? {
        guard let entries = reader.namedMapping(node, "`environment` of \(what)") else { return nil }
        var variables: [String: String] = [:]
        var failed = false
        for entry in entries {
            let place = "variable `\(Quote.excerpt(entry.name))` of \(what)"
            guard ValueRules.isVariableName(entry.name) else {
                reader.error("`environment` of \(what) has `\(Quote.excerpt(entry.name))`, which is not a variable name", at: entry.keyNode,
                             hint: "a letter or `_`, then letters, digits or `_`, such as `DJANGO_SETTINGS_MODULE`")
                failed = true
                continue
            }
            if entry.name.hasPrefix("PINWHEEL_") {
                reader.error("\(place) starts with `PINWHEEL_`, which Pinwheel sets itself", at: entry.keyNode,
                             hint: "PINWHEEL_ENVIRONMENT and PINWHEEL_SLOT are already in every process's environment")
                failed = true
                continue
            }
            guard let value = reader.string(entry.value, place) else {
                failed = true
                continue
            }
            if let problem = ValueRules.variableValueProblem(value) {
                reader.error("\(place) \(problem)", at: entry.value,
                             hint: "secrets belong in `envFile`, a file on the host, not in git")
                failed = true
                continue
            }
            if let placeholder = ValueRules.unknownPlaceholder(in: value, known: isWeb ? ["port", "slot"] : ["slot"]) {
                reader.error("\(place) has the placeholder `{\(placeholder)}`, which is not one of \(isWeb ? "`{port}`, `{slot}`" : "`{slot}` (the program has no port)")", at: entry.value)
                failed = true
                continue
            }
            variables[entry.name] = value
        }
        return failed ? nil : variables
    }
}
