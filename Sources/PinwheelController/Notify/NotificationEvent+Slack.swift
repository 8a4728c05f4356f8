import Foundation
import PinwheelCore

extension NotificationEvent {
    /// A Slack-compatible incoming-webhook payload: `text` (what notifications and clients without blocks show) and
    /// `blocks` with the message and a context line (commit, author, status page). Other chat tools that accept
    /// Slack's format (Mattermost, Rocket.Chat) read `text`.
    ///
    /// Every text is within Slack's documented limits (``SlackLimits``), so Slack never refuses the payload (a refused
    /// payload is not retried, and the alert would be lost), and its control characters are shown, not sent.
    public func slackBody() -> [UInt8] {
        let headline = "\(Self.emoji[event] ?? "") *\(Self.escape(Self.bounded(title, 300)))*"
        var section = headline
        if !message.isEmpty, message != title {
            section += "\n" + Self.escape(Self.bounded(message, 1500))
        }
        let failing = hosts.filter { $0.error != nil || $0.healthy == false }
        if !failing.isEmpty {
            section += "\n" + failing.prefix(10).map { "• \(Self.escape(Self.bounded($0.name, 100))): \(Self.escape(Self.bounded($0.error ?? "unhealthy", 300)))" }
                .joined(separator: "\n")
            if failing.count > 10 { section += "\n… and \(failing.count - 10) more" }
        }
        var context = "`\(Self.escape(String(commit.prefix(7))))`"
        if let summary { context += " \(Self.escape(Self.bounded(summary, 200)))" }
        if let author { context += " by \(Self.escape(Self.bounded(author.name, 100)))" }
        if let link { context += " · <\(link)|status page>" }
        let payload = SlackPayload(
            text: UntrustedText.bounded(UntrustedText.escaped("\(environment): \(event.rawValue) — \(title)"), limit: SlackLimits.text),
            blocks: [
                .init(type: "section", text: .init(type: "mrkdwn", text: UntrustedText.bounded(section, limit: SlackLimits.sectionText))),
                .init(type: "context", elements: [.init(type: "mrkdwn", text: UntrustedText.bounded(context, limit: SlackLimits.contextText))]),
            ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(payload)).map(Array.init) ?? []
    }

    /// A part of the message, bounded before it is escaped (escaping only lengthens it by a few entities) and with
    /// its control characters visible, except its line breaks.
    static func bounded(_ text: String, _ limit: Int) -> String {
        UntrustedText.terminal(UntrustedText.bounded(text, limit: limit))
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
        .superseded: ":fast_forward:",
        .held: ":pause_button:",
    ]
}

/// Slack's documented limits on a message's texts, in characters (counted here in UTF-16 code units, never fewer).
/// Slack answers a payload over them with 400 `invalid_blocks`.
enum SlackLimits {
    /// A section block's text: at most 3,000 characters.
    static let sectionText = 3000
    /// A context block's text element: kept under the 2,000 characters of a section's field, with room to spare.
    static let contextText = 2000
    /// The message's top-level `text`: Slack advises at most 4,000 characters (and cuts at 40,000).
    static let text = 4000
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
