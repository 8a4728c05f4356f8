/// A slot's spec on one host together with its fingerprint, computed once when the desired state is resolved.
///
/// Encoded as `{"fingerprint": …, "spec": …}`: the form the host agent receives.
public struct ResolvedSlot: Sendable, Hashable, Codable {
    public let fingerprint: String
    public let spec: SlotSpec

    public init(_ spec: SlotSpec) {
        self.spec = spec
        fingerprint = SlotFingerprint.of(spec)
    }
}
