import Foundation
import PinwheelCore
import PinwheelHTTP

/// Gets each slot's exact artifacts once, from the index the controller reaches or a wheel folder on its machine, into
/// the ``ArtifactCache``, and hands them to the agents of one environment, which send each host what it lacks.
///
/// One shipper serves every host of a reconcile: a pin's files are found, fetched and checked once, whatever the
/// number of hosts, and a later reconcile finds them in the cache (the record of a pin's files, `pins/<digest>.json`,
/// spares the index even the page). What it reads from an index or a folder is used only when its SHA-256 is one the
/// lock names.
public actor ArtifactShipper {
    public let cache: ArtifactCache
    public let origin: ShipOrigin
    private var resolving: [Pin: Task<[Located], any Error>] = [:]
    /// Files whose cached bytes were checked by this shipper: later reads skip the hash (each host checks it again).
    private var checked: Set<String> = []
    /// What the index was asked, for the benchmark and the tests: one count per URL.
    public private(set) var requests: [String: Int] = [:]
    private let timeout: TimeInterval
    /// The largest index page read (a project's page on PyPI lists every file of every release: a few megabytes).
    static let pageLimit = 64 << 20
    /// The largest file fetched (the largest wheels, with GPU libraries inside, are a few gigabytes at most; a
    /// buffer holds less than 4 GiB).
    static let artifactLimit = Int(UInt32.max) - 1

    /// A file and where it came from, so a corrupt cached copy can be fetched again.
    struct Located: Codable, Sendable, Hashable {
        var artifact: ShippedArtifact
        var location: String
    }

    /// Every pin of each slot file (each marker's alternative too: the host's installer picks among them).
    public let pins: PerSlot<[Pin]>
    /// The exact uv version shipped to hosts that have none (`ship: {uv: …}`); nil: hosts without uv use pip.
    public let uv: String?
    /// What each host reported of its platform in its last observation, by host name.
    private var platforms: [String: HostPlatform] = [:]
    /// uv's wheel for each platform (by ``uvKey(_:)``), found and fetched once.
    private var uvWheels: [String: Task<Located, any Error>] = [:]

    /// Whether each slot runs on the environment's interpreter, the one the agent runs on and reports (a slot with a
    /// `python:` of its own does not).
    public let agentsInterpreter: PerSlot<Bool>

    public init(cache: ArtifactCache, origin: ShipOrigin, pins: PerSlot<[Pin]>, uv: String? = nil, timeout: TimeInterval = 60,
                agentsInterpreter: PerSlot<Bool> = PerSlot(a: true, b: true)) {
        self.agentsInterpreter = agentsInterpreter
        self.cache = cache
        self.origin = origin
        self.pins = pins
        self.uv = uv
        self.timeout = timeout
    }

    /// The shipper for `environment` when its source is `ship`, keeping its files in `cache`.
    public static func of(_ environment: Environment, cache: ArtifactCache) -> ArtifactShipper? {
        guard case let .ship(origin, uv) = environment.source else { return nil }
        return ArtifactShipper(cache: cache, origin: origin, pins: PerSlot(a: environment.slots.a.pins, b: environment.slots.b.pins),
                               uv: uv, agentsInterpreter: PerSlot(a: environment.python(of: .a) == environment.python,
                                                                  b: environment.python(of: .b) == environment.python))
    }

    /// Keeps what `host` reported of its platform, for the files it is sent next.
    public func note(_ platform: HostPlatform?, of host: String) {
        platforms[host] = platform?.checked()
    }

    /// What `host` last reported of its platform; nil when it never did (or said nothing usable).
    public func platform(of host: String) -> HostPlatform? {
        platforms[host]
    }

    /// The files `slot` installs on a host of `platform` (every pin's files when it is unknown), each in the cache
    /// and checked by hash. A slot on an interpreter of its own is not judged by the agent's interpreter.
    public func artifacts(for slot: Slot, platform: HostPlatform? = nil) async throws -> [ShippedArtifact] {
        let platform = agentsInterpreter[slot] ? platform : platform?.withoutInterpreter
        return try await artifacts(for: ArtifactChoice.pins(pins[slot], for: platform), platform: platform)
    }

    /// The files to ship for `pins` to a host of `platform`, each in the cache and checked by hash.
    public func artifacts(for pins: [Pin], platform: HostPlatform? = nil) async throws -> [ShippedArtifact] {
        var result: [ShippedArtifact] = []
        for pin in pins {
            result += ArtifactChoice.forHost(try await located(pin).map(\.artifact), platform: platform)
        }
        return result
    }

    /// uv's wheel for a host of `platform`, when `ship: {uv: …}` asks for it and the host has no uv of its own; nil
    /// otherwise. Found on the origin once per platform (its SHA-256 the one the index's page names, or the folder
    /// file's own), kept in the cache and checked like any shipped file.
    public func uvWheel(for platform: HostPlatform?) async throws -> ShippedArtifact? {
        guard let uv, let platform, !platform.uv else { return nil }
        let key = Self.uvKey(platform)
        if let task = uvWheels[key] { return try await task.value.artifact }
        let task = Task { try await self.resolveUV(version: uv, platform: platform) }
        uvWheels[key] = task
        do {
            return try await task.value.artifact
        } catch {
            uvWheels[key] = nil
            throw error
        }
    }

    static func uvKey(_ platform: HostPlatform) -> String {
        "\(platform.machine)-\(platform.libc ?? "unknown")-\(platform.libcVersion ?? "unknown")"
    }

    private func resolveUV(version: String, platform: HostPlatform) async throws -> Located {
        let project = Pin(name: "uv", version: version, hashes: [])
        let candidates = try await offer(for: project)
        guard let chosen = UVWheelChoice.choose(version: version, from: candidates, platform: platform) else {
            throw ShipError.origin("uv \(version): the \(origin) offers no uv wheel for \(platform) (a host without uv of its own "
                                   + "needs one); add it (`pip download uv==\(version) --no-deps --only-binary :all: "
                                   + "--platform <tag>`) or install uv on that host")
        }
        var located = Located(artifact: ShippedArtifact(name: chosen.name, sha256: chosen.sha256, size: 0), location: chosen.location)
        let entry = cache.read(chosen.sha256)
        let data: Data
        if case let .present(cached) = entry {
            data = cached
        } else {
            data = try await refetch(located, after: entry)
        }
        checked.insert(chosen.sha256)
        located.artifact.size = data.count
        return located
    }

    /// The bytes of `artifact`, from the cache; a copy that no longer matches its hash is fetched again, or the error
    /// says it cannot be.
    public func data(of artifact: ShippedArtifact) async throws -> Data {
        let entry = cache.read(artifact.sha256, verify: !checked.contains(artifact.sha256))
        if case let .present(data) = entry {
            checked.insert(artifact.sha256)
            return data
        }
        checked.remove(artifact.sha256)
        guard let location = try await locations()[artifact.sha256] else {
            throw ShipError.cache("\(artifact.name): the controller's cached copy (\(cache.path(of: artifact.sha256))) is gone and "
                                  + "no source for it is known; apply again to fetch it")
        }
        return try await refetch(Located(artifact: artifact, location: location), after: entry)
    }

    private func locations() async throws -> [String: String] {
        var result: [String: String] = [:]
        for task in resolving.values {
            for entry in (try? await task.value) ?? [] { result[entry.artifact.sha256] = entry.location }
        }
        for task in uvWheels.values {
            if let entry = try? await task.value { result[entry.artifact.sha256] = entry.location }
        }
        return result
    }

    private func located(_ pin: Pin) async throws -> [Located] {
        if let task = resolving[pin] { return try await task.value }
        let task = Task { try await self.resolve(pin) }
        resolving[pin] = task
        do {
            return try await task.value
        } catch {
            resolving[pin] = nil
            throw error
        }
    }

    /// The record of the pin's files when it has one, else the origin's offer; then each file into the cache.
    private func resolve(_ pin: Pin) async throws -> [Located] {
        let record = "\(cache.folder)/pins/\(pinKey(pin)).json"
        var chosen: [Located]
        if let data = FileManager.default.contents(atPath: record),
           let entries = try? JSONDecoder().decode([Located].self, from: data),
           !entries.isEmpty, entries.allSatisfy({ Set(ArtifactChoice.sha256s(of: pin)).contains($0.artifact.sha256) }) {
            chosen = entries
        } else {
            let candidates = try await offer(for: pin)
            let picked = ArtifactChoice.choose(for: pin, from: candidates)
            guard !picked.isEmpty else { throw ShipError.notFound(pin: pin.description, origin: origin.description) }
            chosen = picked.map { Located(artifact: ShippedArtifact(name: $0.name, sha256: $0.sha256, size: 0), location: $0.location) }
        }
        for index in chosen.indices {
            let data: Data
            let entry = cache.read(chosen[index].artifact.sha256)
            if case let .present(cached) = entry {
                data = cached
            } else {
                data = try await refetch(chosen[index], after: entry)
            }
            checked.insert(chosen[index].artifact.sha256)
            chosen[index].artifact.size = data.count
        }
        try? FileManager.default.createDirectory(atPath: "\(cache.folder)/pins", withIntermediateDirectories: true)
        if let encoded = try? JSONEncoder().encode(chosen) {
            try? encoded.write(to: URL(fileURLWithPath: record), options: .atomic)
        }
        return chosen
    }

    private func pinKey(_ pin: Pin) -> String {
        ContentDigest.hex(of: Data("\(pin.normalizedName)\n\(pin.version)\n\(ArtifactChoice.sha256s(of: pin).sorted().joined(separator: ","))".utf8))
    }

    /// `fetch`, saying in its error that the cached copy was corrupt (and removed) when it was.
    private func refetch(_ entry: Located, after found: ArtifactCache.Entry) async throws -> Data {
        do {
            return try await fetch(entry)
        } catch {
            guard case let .corrupt(actual) = found else { throw error }
            throw ShipError.cache("\(entry.artifact.name): the controller's cached copy hashed to \(actual), not the lock's "
                                  + "\(entry.artifact.sha256), and was removed; fetching it again failed: \(error)")
        }
    }

    /// Gets a file from where it is offered, checks it and keeps it.
    private func fetch(_ entry: Located) async throws -> Data {
        let data: Data
        switch origin {
        case .index:
            data = try await get(entry.location, what: entry.artifact.name, limit: Self.artifactLimit)
        case .folder:
            guard let read = FileManager.default.contents(atPath: entry.location) else {
                throw ShipError.origin("\(entry.artifact.name): cannot read \(entry.location) in the wheel folder")
            }
            data = read
        }
        try cache.store(data, sha256: entry.artifact.sha256, name: entry.artifact.name)
        return data
    }

    /// The files the origin offers for `pin`, each with its SHA-256.
    private func offer(for pin: Pin) async throws -> [ArtifactChoice.Candidate] {
        switch origin {
        case let .index(url):
            let page = SimpleIndexPage.pageURL(index: url, project: pin.name)
            let html = try await get(page, what: "the index page of \(pin.name)", limit: Self.pageLimit)
            return SimpleIndexPage.candidates(html: String(decoding: html, as: UTF8.self), pageURL: page)
        case let .folder(path):
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else {
                throw ShipError.origin("the wheel folder \(path) cannot be read; create it on the controller and fill it "
                                       + "(`pip download --no-deps -r <slot file> -d \(path)` on a machine that reaches an index)")
            }
            let project = pin.normalizedName
            return names.sorted().compactMap { name in
                guard ShippedArtifact.isSafeName(name), Pin.normalize(name).hasPrefix(project + "-"),
                      let data = FileManager.default.contents(atPath: "\(path)/\(name)") else { return nil }
                return .init(name: name, sha256: ContentDigest.hex(of: data), location: "\(path)/\(name)")
            }
        }
    }

    private func get(_ address: String, what: String, limit: Int) async throws -> Data {
        guard let url = URL(string: address), url.scheme == "http" || url.scheme == "https" else {
            throw ShipError.origin("\(what): `\(address)` is not an http(s) URL")
        }
        requests[address, default: 0] += 1
        let answer: HTTPFetch.Response
        do {
            answer = try await HTTPFetch.send(.get, to: url, headers: [("Accept", "text/html")],
                                              timeout: .milliseconds(Int64(timeout * 1000)), limit: limit)
        } catch {
            throw ShipError.origin("\(what): the controller cannot get \(address): \(error)")
        }
        guard answer.status == 200 else { throw ShipError.origin("\(what): \(address) answered HTTP \(answer.status)") }
        return Data(answer.body)
    }
}
