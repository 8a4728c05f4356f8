/// What `GET /api/v1/environments` and `GET /api/v1/environments/{name}` answer: the controller's last status of
/// each environment, as JSON the controller encodes (this module knows no Pinwheel types).
public struct EnvironmentsEndpoint: Sendable {
    /// Every environment's status: a JSON object `{"environments": [...]}`, sorted by name.
    public var all: @Sendable () async -> [UInt8]
    /// One environment's status as a JSON object, or nil when the controller has none for it (404).
    public var one: @Sendable (String) async -> [UInt8]?

    public init(all: @escaping @Sendable () async -> [UInt8], one: @escaping @Sendable (String) async -> [UInt8]?) {
        self.all = all
        self.one = one
    }
}
