/// Comparisons whose running time does not depend on where two secrets first differ, so that an
/// attacker who can time the endpoint's answers learns nothing about the secret or the expected MAC.
enum ConstantTime {
    /// Whether two byte strings of the same length are equal, looking at every byte whatever it finds.
    /// Strings of different lengths are unequal (lengths of MACs are public).
    static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices {
            difference |= lhs[index] ^ rhs[index]
        }
        return difference == 0
    }

    /// Whether a presented token equals the secret, without leaking the secret's length either:
    /// both sides are hashed first, and the fixed-length digests compared in constant time.
    static func tokenEqual(_ presented: [UInt8], _ secret: [UInt8]) -> Bool {
        equal(SHA256.hash(presented), SHA256.hash(secret))
    }
}
