import Yams

extension PolicyParser {
    /// `notify:` — a list of targets:
    ///
    /// ```yaml
    /// notify:
    ///   - type: slack
    ///     url: {env: SLACK_WEBHOOK_URL}
    ///   - type: webhook
    ///     url: {file: /etc/pinwheel/hook-url}
    ///     events: [halted, reverted, drift]
    /// ```
    ///
    /// A URL written in the policy is an error, and the error never repeats it: it is read from the controller's
    /// environment or a file on the controller.
    func parseNotify(_ node: Node) -> [NotifyTarget] {
        guard let items = reader.sequence(node, "`notify`") else { return [] }
        if items.count > 20 {
            reader.error("`notify` names \(items.count) targets; at most 20", at: node)
            return []
        }
        var targets: [NotifyTarget] = []
        for (index, item) in items.enumerated() {
            if let target = parseTarget(item, "`notify[\(index)]`"), !targets.contains(target) {
                targets.append(target)
            }
        }
        return targets
    }

    private func parseTarget(_ node: Node, _ what: String) -> NotifyTarget? {
        guard let fields = reader.mapping(node, what, required: ["type", "url"], optional: ["events"]) else { return nil }
        let format = fields["type"].flatMap { reader.choice($0, "`type` of \(what)", as: NotifyTarget.Format.self) }
        let url = fields["url"].flatMap { parseSecretLocation($0, "`url` of \(what)") }
        var events = NotificationKind.allCases
        var valid = true
        if let node = fields["events"], let items = reader.sequence(node, "`events` of \(what)") {
            events = []
            for item in items {
                guard let kind = reader.choice(item, "an event of \(what)", as: NotificationKind.self) else {
                    valid = false
                    continue
                }
                if !events.contains(kind) { events.append(kind) }
            }
            if items.isEmpty {
                reader.error("`events` of \(what) names no event; leave it out for every event", at: node)
                valid = false
            }
        }
        guard valid, let format, let url else { return nil }
        return NotifyTarget(format: format, url: url, events: events)
    }

    /// `{env: NAME}` or `{file: /path}`; a literal URL is refused without being repeated.
    private func parseSecretLocation(_ node: Node, _ what: String) -> NotifyTarget.SecretLocation? {
        if case .scalar = node {
            reader.error("\(what) must say where the controller reads the URL, not the URL itself: a webhook URL carries "
                + "its token, and everyone who can read the repository could post with it",
                at: node, hint: "write `url: {env: SLACK_WEBHOOK_URL}` or `url: {file: /etc/pinwheel/slack-url}` and set "
                    + "the variable or file on the controller; remove the URL from git history and rotate it")
            return nil
        }
        guard let fields = reader.mapping(node, what, optional: ["env", "file"]) else { return nil }
        guard fields.entries.count == 1, let entry = fields.entries.first else {
            reader.error("\(what) must name exactly one of `env` or `file`", at: node)
            return nil
        }
        guard let text = reader.string(entry.value, "`\(entry.key)` of \(what)") else { return nil }
        if entry.key == "env" {
            guard NotifyTarget.SecretLocation.isVariableName(text) else {
                reader.error("`env` of \(what) must be an environment variable's name (letters, digits, `_`), found `\(Quote.excerpt(text))`",
                             at: entry.value)
                return nil
            }
            return .environment(text)
        }
        guard NotifyTarget.SecretLocation.isFilePath(text) else {
            let shown = text.contains("://") ? "a URL" : "`\(Quote.excerpt(text))`"
            reader.error("`file` of \(what) must be an absolute path on the controller without `..`, found \(shown)", at: entry.value)
            return nil
        }
        return .file(text)
    }
}
