import Crypto
import Foundation

/// Which replica owns which environment: rendezvous (highest random weight) hashing. Each replica scores each
/// environment by a hash of both names and the highest score owns it, so adding or losing a replica moves only the
/// environments that replica gains or loses, and every replica computes the same answer from the same list.
public enum Rendezvous {
    /// The owner of `key` among `replicas` (nil when there is none).
    public static func owner(of key: String, among replicas: some Collection<String>) -> String? {
        replicas.max { weight(key, $0) < weight(key, $1) || (weight(key, $0) == weight(key, $1) && $0 > $1) }
    }

    /// Every key's owner among `replicas`.
    public static func assignment(of keys: some Sequence<String>, among replicas: [String]) -> [String: String] {
        var owners: [String: String] = [:]
        for key in keys {
            owners[key] = owner(of: key, among: replicas)
        }
        return owners
    }

    /// The weight of `replica` for `key`: the first eight bytes of SHA-256 over both, with a separator no name has.
    static func weight(_ key: String, _ replica: String) -> UInt64 {
        var hash = SHA256()
        hash.update(data: Data(replica.utf8))
        hash.update(data: [0])
        hash.update(data: Data(key.utf8))
        return hash.finalize().prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
