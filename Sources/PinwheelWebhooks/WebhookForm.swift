/// Which git host's conventions a webhook follows; each has its own route, `/hooks/<rawValue>`.
public enum WebhookForm: String, Sendable, Equatable, Hashable, CaseIterable, CustomStringConvertible {
    /// GitHub (and Gitea/Forgejo, which send the same `X-Hub-Signature-256`): HMAC-SHA256 of the body.
    case github
    /// GitLab: the secret itself in `X-Gitlab-Token`.
    case gitlab
    /// Anything else (CI jobs, scripts): `X-Pinwheel-Signature: sha256=<hex>` or `Authorization: Bearer`.
    case generic

    public var description: String { rawValue }
}
