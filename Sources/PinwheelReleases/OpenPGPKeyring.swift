import Foundation

/// A file of OpenPGP public keys as gpgv reads it: gpgv takes binary keyrings only, so ASCII-armored blocks (what
/// `gpg --export --armor` and https://github.com/web-flow.gpg give) are decoded here.
enum OpenPGPKeyring {
    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    /// The binary keyring in `contents`: the bytes themselves when they are not armored, else every
    /// `PUBLIC KEY BLOCK`'s body decoded and joined.
    static func binary(_ contents: Data) throws(Unreadable) -> Data {
        guard let text = String(data: contents, encoding: .utf8), text.contains("-----BEGIN PGP PUBLIC KEY BLOCK-----") else {
            guard let first = contents.first, first & 0x80 != 0 else {
                throw Unreadable(description: "neither OpenPGP public keys nor an armored PUBLIC KEY BLOCK: export them "
                                 + "with `gpg --export --armor KEY-ID`")
            }
            return contents
        }
        var keyring = Data()
        var body: String?
        var inHeaders = false
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line == "-----BEGIN PGP PUBLIC KEY BLOCK-----" {
                body = ""
                inHeaders = true
            } else if line == "-----END PGP PUBLIC KEY BLOCK-----", let base64 = body {
                guard let decoded = Data(base64Encoded: base64) else {
                    throw Unreadable(description: "a PUBLIC KEY BLOCK is not valid base64")
                }
                keyring.append(decoded)
                body = nil
            } else if body != nil {
                if inHeaders {
                    // Armor headers (`Comment: …`) end at the first empty line; a block without headers starts at once.
                    if line.isEmpty { inHeaders = false; continue }
                    if line.contains(": ") { continue }
                    inHeaders = false
                }
                if line.hasPrefix("=") { continue }  // the CRC-24 checksum line
                body? += line
            }
        }
        guard !keyring.isEmpty else { throw Unreadable(description: "no complete PUBLIC KEY BLOCK") }
        return keyring
    }
}
