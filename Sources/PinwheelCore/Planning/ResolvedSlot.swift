/// A slot's spec on one host together with its fingerprint, computed once when the desired state is resolved.
///
/// Encoded as `{"fingerprint": …, "build": …, "spec": …}`: the form the host agent receives.
public struct ResolvedSlot: Sendable, Hashable, Codable {
    public let fingerprint: String
    /// What the slot installs (`SlotFingerprint.build`): a host whose build has this digest only restarts.
    public let build: String
    public let spec: SlotSpec

    public init(_ spec: SlotSpec) {
        self.spec = spec
        fingerprint = SlotFingerprint.of(spec)
        build = SlotFingerprint.build(of: spec)
    }
}
