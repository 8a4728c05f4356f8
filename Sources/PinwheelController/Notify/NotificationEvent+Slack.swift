import Foundation
import PinwheelCore

extension NotificationEvent {
    /// A Slack-compatible incoming-webhook payload: `text` (what notifications and clients without blocks show) and
    /// `blocks` with the message and a context line (commit, author, status page). Other chat tools that accept
    /// Slack's format (Mattermost, Rocket.Chat) read `text`.
    public func slackBody() -> [UInt8] {
        let headline = "\(Self.emoji[event] ?? "") *\(Self.escape(title))*"
        var section = headline
        if !message.isEmpty, message != title {
            section += "\n" + Self.escape(String(message.prefix(2500)))
        }
        let failing = hosts.filter { $0.error != nil || $0.healthy == false }
        if !failing.isEmpty {
            section += "\n" + failing.prefix(10).map { "• \(Self.escape($0.name)): \(Self.escape($0.error ?? "unhealthy"))" }
                .joined(separator: "\n")
            if failing.count > 10 { section += "\n… and \(failing.count - 10) more" }
        }
        var context = "`\(commit.prefix(7))`"
        if let summary { context += " \(Self.escape(summary))" }
        if let author { context += " by \(Self.escape(author.name))" }
        if let link { context += " · <\(link)|status page>" }
        let payload = SlackPayload(
            text: "\(environment): \(event.rawValue) — \(title)",
            blocks: [
                .init(type: "section", text: .init(type: "mrkdwn", text: section)),
                .init(type: "context", elements: [.init(type: "mrkdwn", text: context)]),
            ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(payload)).map(Array.init) ?? []
    }

    /// The body `target` receives.
    public func body(for format: NotifyTarget.Format) -> [UInt8] {
        switch format {
        case .webhook: return webhookBody()
        case .slack: return slackBody()
        }
    }

    /// Slack's mrkdwn treats `&`, `<` and `>` as markup: escaped, so a commit message cannot make a link or a mention.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    static let emoji: [NotificationKind: String] = [
        .started: ":arrow_forward:", .converged: ":white_check_mark:", .degraded: ":large_orange_diamond:", .halted: ":x:",
        .reverted: ":leftwards_arrow_with_hook:", .refused: ":no_entry:", .waiting: ":hourglass:", .drift: ":warning:",
    ]
}

/// Slack's incoming-webhook body.
struct SlackPayload: Encodable {
    var text: String
    var blocks: [Block]

    struct Block: Encodable {
        var type: String
        var text: Text?
        var elements: [Text]?

        init(type: String, text: Text? = nil, elements: [Text]? = nil) {
            self.type = type
            self.text = text
            self.elements = elements
        }
    }

    struct Text: Encodable {
        var type: String
        var text: String
    }
}
