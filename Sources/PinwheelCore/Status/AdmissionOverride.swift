/// A person's decision to apply a commit that admission held back (`pinwheel apply --override REASON`), recorded in
/// the status it led to so that git says who set which rule aside, and why.
public struct AdmissionOverride: Sendable, Hashable, Codable {
    /// Why, in the person's words.
    public var reason: String
    /// Who: `Name <email>`, as git would sign a commit by them.
    public var by: String
    /// Every rule that held the commit back, in admission's order (the first is what a status would have said).
    public var overrode: [AdmissionReason]
    /// What the first of them said.
    public var message: String

    public init(reason: String, by: String, overrode: [AdmissionReason], message: String) {
        self.reason = reason
        self.by = by
        self.overrode = overrode
        self.message = message
    }

    /// One line for people: `by Ann <ann@example.com>, overriding windowClosed: hotfix for INC-42`.
    public var summary: String {
        "by \(by), overriding \(overrode.map(\.rawValue).joined(separator: ", ")): \(reason)"
    }
}
