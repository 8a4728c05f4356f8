/// Where hosts install packages from.
public enum PackageSource: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A PEP 503 simple index URL.
    case index(String)
    /// A folder of wheels on each host, for hosts without network access.
    case wheelhouse(String)

    public var description: String {
        switch self {
        case let .index(url): return "index \(url)"
        case let .wheelhouse(path): return "wheelhouse \(path)"
        }
    }

    private enum CodingKeys: String, CodingKey {
        case index
        case wheelhouse
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let url = try container.decodeIfPresent(String.self, forKey: .index) {
            self = .index(url)
        } else {
            self = .wheelhouse(try container.decode(String.self, forKey: .wheelhouse))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .index(url): try container.encode(url, forKey: .index)
        case let .wheelhouse(path): try container.encode(path, forKey: .wheelhouse)
        }
    }
}
