/// Why a status says what it says, in the spirit of a Kubernetes condition's reason: a code tools and tests read,
/// the step it is about, and a message for people. For a held commit the code is an ``AdmissionReason``; for a
/// failed host or a halted rollout it is a ``FailureCode``.
///
/// Written as a mapping (`reason: {code: health, step: check B, message: …}`); statuses written before it was a
/// mapping hold a bare code (`reason: windowClosed`) and read as a reason with only its code.
public struct StatusReason: Sendable, Hashable, Codable {
    public var code: String
    public var step: String?
    public var message: String?

    public init(code: String, step: String? = nil, message: String? = nil) {
        self.code = code
        self.step = step
        self.message = message
    }

    private enum CodingKeys: String, CodingKey {
        case code, step, message
    }

    public init(from decoder: any Decoder) throws {
        if let code = try? decoder.singleValueContainer().decode(String.self) {
            self.init(code: code)
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(code: try container.decode(String.self, forKey: .code),
                  step: try container.decodeIfPresent(String.self, forKey: .step),
                  message: try container.decodeIfPresent(String.self, forKey: .message))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encodeIfPresent(step, forKey: .step)
        try container.encodeIfPresent(message, forKey: .message)
    }

    /// One line: `health at check B: slot B failed its health check …`.
    public var summary: String {
        code + (step.map { " at \($0)" } ?? "") + (message.map { ": \($0)" } ?? "")
    }
}
