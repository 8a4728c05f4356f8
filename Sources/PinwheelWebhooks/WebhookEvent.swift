/// An authentic push, handed to the controller's trigger closure.
public struct WebhookEvent: Sendable, Equatable, CustomStringConvertible {
    /// Which route it came in on.
    public var form: WebhookForm
    /// Why it triggers, for the log ("GitHub push", "GitLab Tag Push Hook", ...).
    public var reason: String
    /// The pushed branch when the body names one; nil means "reconcile whatever is configured".
    public var branch: String?
    /// The host's delivery id (`X-GitHub-Delivery`, `X-Gitlab-Event-UUID`, `X-Request-Id`) so a
    /// reconcile can be matched to the delivery shown in the host's webhook settings.
    public var deliveryID: String?

    public init(form: WebhookForm, reason: String, branch: String?, deliveryID: String? = nil) {
        self.form = form
        self.reason = reason
        self.branch = branch
        self.deliveryID = deliveryID
    }

    public var description: String {
        var text = "\(form) webhook: \(reason)"
        if let branch { text += " (branch \(branch))" }
        if let deliveryID { text += " [delivery \(deliveryID)]" }
        return text
    }
}
