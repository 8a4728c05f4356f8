import Crypto
import Foundation

/// A slot's components as a CycloneDX 1.5 software bill of materials (JSON), for `pinwheel show ENV --sbom`: every
/// package the slot's hosts install (markers evaluated for the slot's interpreter where Pinwheel can; an undecided
/// one stays, with its marker as a property), each with its package URL and the hashes the lock pins.
///
/// Written to the CycloneDX 1.5 JSON schema (https://cyclonedx.org/docs/1.5/json/). The same config gives the same
/// bytes: the serial number is derived from the content and no time is written, so a document can be committed or
/// compared.
public struct CycloneDXDocument: Sendable {
    public var environment: Environment
    public var slot: Slot
    /// The config commit the environment was read at, when it was.
    public var commit: String?
    /// Pinwheel's version, recorded as the tool that wrote the document.
    public var toolVersion: String

    public init(environment: Environment, slot: Slot, commit: String?, toolVersion: String) {
        self.environment = environment
        self.slot = slot
        self.commit = commit
        self.toolVersion = toolVersion
    }

    /// The document as pretty-printed JSON with sorted keys.
    public func json() throws -> String {
        var body = document()
        let content = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        body["serialNumber"] = "urn:uuid:" + Self.uuid(of: content)
        let data = try JSONSerialization.data(withJSONObject: body, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// The pins the document lists: what the slot's hosts install.
    public var pins: [Pin] {
        environment.slots[slot].pins(for: environment.markerFacts(of: slot))
    }

    func document() -> [String: Any] {
        let applicationRef = "pinwheel:\(environment.name)/\(environment.app)@\(slot.rawValue)"
        var properties: [[String: String]] = [
            ["name": "pinwheel:environment", "value": environment.name],
            ["name": "pinwheel:slot", "value": slot.rawValue],
            ["name": "pinwheel:active", "value": environment.active == slot ? "true" : "false"],
            ["name": "pinwheel:slotFile", "value": environment.slots[slot].file],
        ]
        if let commit { properties.append(["name": "pinwheel:commit", "value": commit]) }
        properties.append(["name": "pinwheel:python", "value": environment.python(of: slot)])
        let components = pins.map(Self.component)
        return [
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "version": 1,
            "metadata": [
                "tools": ["components": [["type": "application", "name": "pinwheel", "version": toolVersion]]],
                "component": ["type": "application", "bom-ref": applicationRef, "name": environment.app,
                              "properties": properties] as [String: Any],
            ] as [String: Any],
            "components": components,
            "dependencies": [["ref": applicationRef, "dependsOn": components.compactMap { $0["bom-ref"] as? String }]],
        ]
    }

    static func component(_ pin: Pin) -> [String: Any] {
        let purl = packageURL(pin)
        var component: [String: Any] = ["type": "library", "bom-ref": purl + (pin.marker.map { "#" + markerDigest($0) } ?? ""),
                                         "name": Pin.normalize(pin.name), "version": pin.version, "purl": purl]
        let hashes = pin.hashes.compactMap(hash)
        if !hashes.isEmpty { component["hashes"] = hashes }
        if let marker = pin.marker { component["properties"] = [["name": "pinwheel:marker", "value": marker]] }
        return component
    }

    /// `pkg:pypi/NAME@VERSION`, the name as the purl spec has PyPI's (lowercase, `_` as `-`), the version
    /// percent-encoded where it must be.
    static func packageURL(_ pin: Pin) -> String {
        let name = pin.name.lowercased().replacingOccurrences(of: "_", with: "-")
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: ".-_~")
        let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text }
        return "pkg:pypi/\(encode(name))@\(encode(pin.version))"
    }

    /// `sha256:HEX` as CycloneDX has it; algorithms it has no name for are left out.
    static func hash(_ text: String) -> [String: String]? {
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let names = ["md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512",
                     "sha3_256": "SHA3-256", "sha3_384": "SHA3-384", "sha3_512": "SHA3-512",
                     "blake2b_256": "BLAKE2b-256", "blake2b_384": "BLAKE2b-384", "blake2b_512": "BLAKE2b-512"]
        let content = parts[1].lowercased()
        guard let name = names[parts[0].lowercased()], !content.isEmpty, content.allSatisfy(\.isHexDigit) else { return nil }
        return ["alg": name, "content": content]
    }

    static func markerDigest(_ marker: String) -> String {
        SHA256.hash(data: Data(marker.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
    }

    /// A name-based UUID (RFC 4122 version 5 layout over SHA-256, truncated) of `content`: the same document, the
    /// same serial number.
    static func uuid(of content: Data) -> String {
        var bytes = Array(SHA256.hash(data: content).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let cut = [8, 4, 4, 4, 12]
        var parts: [String] = []
        var index = hex.startIndex
        for length in cut {
            let end = hex.index(index, offsetBy: length)
            parts.append(String(hex[index..<end]))
            index = end
        }
        return parts.joined(separator: "-")
    }
}
