import Foundation
import Yams

/// Reads `Policies/<name>.yaml`. Every key is optional; what is left out takes the documented default.
struct PolicyParser {
    let reader: ConfigReader
    /// Whether `bake:` and `analysis:` are read. The rollout carries them out (a bake after the canary and each
    /// batch, ``BakeWindow``); a caller that cannot enforce them turns this off, and they are unknown keys.
    var acceptsAnalysis = true

    func parse(name: String) -> Policy? {
        let keys = ["rollout", "health", "drift", "windows", "freeze", "rollbacks", "verify", "promotion", "notify", "requireHashes"]
        guard let root = reader.mapping(reader.document.root, "the policy", optional: keys + (acceptsAnalysis ? ["bake", "analysis"] : [])) else {
            return nil
        }
        var policy = Policy(name: name)
        if let node = root["rollout"] {
            parseRollout(node, into: &policy.rollout)
        }
        if let node = root["health"], let fields = reader.mapping(node, "`health`", optional: ["retries", "interval"]) {
            if let value = fields["retries"].flatMap({ reader.integer($0, "`health.retries`", in: 1...1000) }) {
                policy.health.retries = value
            }
            if let value = fields["interval"].flatMap({ reader.duration($0, "`health.interval`", in: .init(milliseconds: 100)...ConfigDuration.seconds(300)) }) {
                policy.health.interval = value
            }
        }
        if let node = root["drift"], let value = reader.choice(node, "`drift`", as: Policy.DriftMode.self) {
            policy.drift = value
        }
        if let node = root["windows"], let items = reader.sequence(node, "`windows`") {
            for (index, item) in items.enumerated() {
                if let rule = parseWindow(item, "`windows[\(index)]`") {
                    policy.windows.rules.append(rule)
                }
            }
        }
        if let node = root["freeze"], let fields = reader.mapping(node, "`freeze`", required: ["reason"]),
           let reason = fields["reason"].flatMap({ reader.string($0, "`freeze.reason`") }) {
            if reason.contains(where: { $0.isNewline || ($0.asciiValue.map { $0 < 0x20 } ?? false) }) {
                reader.error("`freeze.reason` must be one line without control characters", at: fields["reason"]!)
            } else {
                policy.windows.freeze = reason
            }
        }
        if let node = root["rollbacks"], let value = reader.choice(node, "`rollbacks`", as: DeployWindows.RollbackRule.self) {
            policy.windows.rollbacks = value
        }
        if let node = root["verify"], let fields = reader.mapping(node, "`verify`", required: ["signatures"]),
           let value = fields["signatures"].flatMap({ reader.choice($0, "`verify.signatures`", as: Verification.SignatureRule.self) }) {
            policy.verify.signatures = value
        }
        if let node = root["requireHashes"], let value = reader.boolean(node, "`requireHashes`") {
            policy.requireHashes = value
        }
        if let node = root["promotion"], let fields = reader.mapping(node, "`promotion`", required: ["from", "soak"]) {
            let source = fields["from"].flatMap { reader.string($0, "`promotion.from`") }
            if let source, let fromNode = fields["from"], !Self.isEnvironmentName(source) {
                reader.error("`promotion.from` must name an environment (letters, digits, `-`, `_`, `.`), found `\(Quote.excerpt(source))`",
                             at: fromNode)
            }
            let soak = fields["soak"].flatMap { reader.duration($0, "`promotion.soak`", in: .seconds(0)...ConfigDuration.seconds(30 * 24 * 3600)) }
            if let source, Self.isEnvironmentName(source), let soak {
                policy.promotion = Promotion(from: source, soak: soak)
            }
        }
        if let node = root["notify"] {
            policy.notify = parseNotify(node)
        }
        if let value = root["bake"].flatMap({ reader.duration($0, "`bake`", in: .seconds(0)...ConfigDuration.seconds(24 * 3600)) }) {
            policy.bake = value
        }
        if let node = root["analysis"] {
            policy.analysis = parseAnalysis(node)
        }
        return policy
    }

    static func isEnvironmentName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 100 && !text.hasPrefix(".")
            && text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }
    }

    /// `- deny: {days: [fri, sat, sun], from: "16:00", to: "08:00", zone: Europe/Berlin}`
    private func parseWindow(_ node: Node, _ what: String) -> DeployWindows.Rule? {
        guard let outer = reader.mapping(node, what, optional: ["allow", "deny"]) else { return nil }
        guard outer.entries.count == 1, let entry = outer.entries.first,
              let effect = DeployWindows.Effect(rawValue: entry.key) else {
            if outer.entries.count > 1 {
                reader.error("\(what) must be either `allow` or `deny`, not both", at: node)
            } else if outer.entries.isEmpty {
                reader.error("\(what) must be `allow: {…}` or `deny: {…}`", at: node)
            }
            return nil
        }
        let name = "`windows[…].\(entry.key)`"
        guard let fields = reader.mapping(entry.value, name, required: ["from", "to", "zone"], optional: ["days"]) else { return nil }
        var valid = true
        var days = DeployWindows.Weekday.allCases
        if let daysNode = fields["days"], let items = reader.sequence(daysNode, "`days` of \(name)") {
            days = []
            let words = DeployWindows.Weekday.allCases.map(\.rawValue)
            for item in items {
                guard let text = reader.string(item, "a day of \(name)") else { valid = false; continue }
                guard let day = DeployWindows.Weekday(rawValue: text) else {
                    reader.error("a day of \(name) must be one of \(words.map { "`\($0)`" }.joined(separator: ", ")), found `\(text)`",
                                 at: item, hint: ConfigReader.suggestion(for: text, among: words))
                    valid = false
                    continue
                }
                if !days.contains(day) { days.append(day) }
            }
            if items.isEmpty {
                reader.error("`days` of \(name) names no day", at: daysNode)
                valid = false
            }
        }
        func time(_ key: String) -> DeployWindows.TimeOfDay? {
            guard let node = fields[key], let text = reader.string(node, "`\(key)` of \(name)") else { return nil }
            guard let value = DeployWindows.TimeOfDay(parsing: text) else {
                reader.error("`\(key)` of \(name) must be a time of day `HH:MM` from 00:00 to 23:59, found `\(text)`", at: node,
                             hint: "quote it: \(key): \"08:00\"")
                return nil
            }
            return value
        }
        let from = time("from")
        let to = time("to")
        var zone: String?
        if let node = fields["zone"], let text = reader.string(node, "`zone` of \(name)") {
            if text.contains("/") || text == "UTC", TimeZone(identifier: text) != nil {
                zone = text
            } else {
                reader.error("`zone` of \(name) must be an IANA time zone such as `Europe/Berlin` or `UTC`, found `\(text)`", at: node)
            }
        }
        guard valid, let from, let to, let zone else { return nil }
        return DeployWindows.Rule(effect, days: days.sorted { $0.index < $1.index }, from: from, to: to, zone: zone)
    }

    private func parseRollout(_ node: Node, into rollout: inout Policy.Rollout) {
        let keys = ["prepare", "canary", "batch", "pause", "maxFailures", "onFailure"]
        guard let fields = reader.mapping(node, "`rollout`", optional: keys) else { return }
        if let value = fields["prepare"].flatMap({ reader.integer($0, "`rollout.prepare`", in: 1...1000) }) {
            rollout.prepare = value
        }
        if let value = fields["canary"].flatMap({ reader.integer($0, "`rollout.canary`", in: 0...1000) }) {
            rollout.canary = value
        }
        if let node = fields["batch"], let text = reader.string(node, "`rollout.batch`") {
            if let value = BatchSize(parsing: text) {
                rollout.batch = value
            } else {
                reader.error("`rollout.batch` must be a number of hosts (at least 1) or a percentage from 1% to 100%, found `\(Quote.excerpt(text))`", at: node)
            }
        }
        if let value = fields["pause"].flatMap({ reader.duration($0, "`rollout.pause`", in: .seconds(0)...ConfigDuration.seconds(3600)) }) {
            rollout.pause = value
        }
        if let value = fields["maxFailures"].flatMap({ reader.integer($0, "`rollout.maxFailures`", in: 0...100_000) }) {
            rollout.maxFailures = value
        }
        if let node = fields["onFailure"], let value = reader.choice(node, "`rollout.onFailure`", as: Policy.FailureAction.self) {
            rollout.onFailure = value
        }
    }
}
