/// HMAC-SHA256 (RFC 2104), the MAC GitHub and Pinwheel's generic hook sign bodies with.
public enum HMACSHA256 {
    /// The MAC of `message` under `key`: 32 bytes.
    public static func authenticationCode(for message: some Collection<UInt8>, key: some Collection<UInt8>) -> [UInt8] {
        var block = Array(key)
        if block.count > SHA256.blockByteCount {
            block = SHA256.hash(block)
        }
        block += [UInt8](repeating: 0, count: SHA256.blockByteCount - block.count)

        var inner = block.map { $0 ^ 0x36 }
        inner.append(contentsOf: message)
        var outer = block.map { $0 ^ 0x5c }
        outer.append(contentsOf: SHA256.hash(inner))
        return SHA256.hash(outer)
    }
}
