/// Where hosts install packages from.
public enum PackageSource: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A PEP 503 simple index URL.
    case index(String)
    /// A folder of wheels on each host, for hosts without network access.
    case wheelhouse(String)
    /// Artifacts the controller gets once, keeps by hash and sends each host over SSH: hosts need no index at all.
    /// With `uv` (an exact version, `ship: {…, uv: 0.13.9}`), a host without a uv of its own is sent uv's wheel for
    /// its platform from the same origin too, and builds its slots with it.
    case ship(ShipOrigin, uv: String? = nil)

    /// The uv version shipped to hosts that have none (`ship: {…, uv: …}`); nil for any other source.
    public var shippedUV: String? {
        guard case let .ship(_, uv) = self else { return nil }
        return uv
    }

    public var description: String {
        switch self {
        case let .index(url): return "index \(url)"
        case let .wheelhouse(path): return "wheelhouse \(path)"
        case let .ship(origin, uv): return "shipped by the controller from \(origin)" + (uv.map { ", with uv \($0)" } ?? "")
        }
    }

    private enum CodingKeys: String, CodingKey {
        case index
        case wheelhouse
        case ship
        case uv
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let url = try container.decodeIfPresent(String.self, forKey: .index) {
            self = .index(url)
        } else if let origin = try container.decodeIfPresent(ShipOrigin.self, forKey: .ship) {
            self = .ship(origin, uv: try container.decodeIfPresent(String.self, forKey: .uv))
        } else {
            self = .wheelhouse(try container.decode(String.self, forKey: .wheelhouse))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .index(url): try container.encode(url, forKey: .index)
        case let .wheelhouse(path): try container.encode(path, forKey: .wheelhouse)
        case let .ship(origin, uv):
            try container.encode(origin, forKey: .ship)
            try container.encodeIfPresent(uv, forKey: .uv)
        }
    }
}

/// Where the controller itself gets the artifacts it ships (`source: {ship: …}`): the hosts never see it.
public enum ShipOrigin: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A PEP 503 simple index the controller reaches (`ship: {index: URL}`).
    case index(String)
    /// A folder of wheels and sdists on the controller's machine (`ship: {wheels: /path}`), for a controller that
    /// has no index either: the folder is synced from a connected machine.
    case folder(String)

    public var description: String {
        switch self {
        case let .index(url): return "index \(url)"
        case let .folder(path): return "folder \(path)"
        }
    }

    private enum CodingKeys: String, CodingKey {
        case index
        case wheels
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let url = try container.decodeIfPresent(String.self, forKey: .index) {
            self = .index(url)
        } else {
            self = .folder(try container.decode(String.self, forKey: .wheels))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .index(url): try container.encode(url, forKey: .index)
        case let .folder(path): try container.encode(path, forKey: .wheels)
        }
    }
}
