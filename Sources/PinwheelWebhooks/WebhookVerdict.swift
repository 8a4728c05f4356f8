/// What to do with a webhook, as ``WebhookVerifier`` decides it. Reasons are short, for the HTTP
/// answer and the log, and never contain the secret or the body.
public enum WebhookVerdict: Sendable, Equatable {
    /// Authentic and a push: reconcile now. `branch` is the pushed branch when the body names one
    /// (`ref: "refs/heads/main"` gives `main`); nil for tags or when the body says nothing.
    case trigger(reason: String, branch: String?)
    /// Authentic, but nothing to do (a ping, an issue comment, ...): answer 200 so the host is content.
    case ignore(String)
    /// Not authentic, or not verifiable: answer 401.
    case reject(String)
}
