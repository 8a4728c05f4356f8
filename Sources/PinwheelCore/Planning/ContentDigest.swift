import Crypto

/// SHA-256 of some bytes as lowercase hex: names content (a cached agent, a cache folder, a slot build) so that
/// different content never shares a name.
public enum ContentDigest {
    public static func hex<Bytes: Sequence>(of bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(data: Array(bytes))
        return hasher.finalize().map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}
