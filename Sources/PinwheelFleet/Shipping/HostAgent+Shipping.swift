import Foundation
import PinwheelCore

extension HostAgent {
    /// Round trips that carry at most this many bytes of files (base64 makes them a third bigger): a file larger than
    /// that travels in several, each appended to the host's partial file.
    static let shipBatchBytes = 16 << 20

    /// What shipping did on one host, said in the prepare step's output.
    struct ShipReport: Sendable {
        var files = 0
        var bytes = 0
        var resumed = 0
    }

    /// The files the shipped slots among `steps`' prepares install on this host (by the platform it reported), by
    /// slot name; nil when no step prepares one.
    func shippedArtifacts(for steps: [HostPlan.Step]) async throws -> [String: [ShippedArtifact]]? {
        guard let shipper else { return nil }
        let platform = await shipper.platform(of: host.name)
        var result: [String: [ShippedArtifact]] = [:]
        for step in steps {
            guard case let .prepare(slot) = step, case .ship = target.slots[slot].spec.source else { continue }
            result[slot.rawValue] = try await shipper.artifacts(for: slot, platform: platform)
        }
        return result.isEmpty ? nil : result
    }

    /// Asks the host which of `artifacts` (and `uv`'s wheel) it lacks (one round trip) and sends those (in round
    /// trips of at most ``shipBatchBytes``), each continuing the host's partial file from the size the host has.
    func ship(_ artifacts: [String: [ShippedArtifact]], uv: ShippedArtifact? = nil, timeout: Duration) async throws -> ShipReport {
        guard let shipper else { return ShipReport() }
        var ask = AgentRequest(.artifacts, target: target, commit: commit, epoch: epoch)
        ask.artifacts = artifacts
        ask.uv = uv
        let answer = try await send(ask, timeout: timeout)
        guard answer.ok else {
            throw ShipError.host("the host could not say which files it has: \(answer.error ?? answer.code ?? "no reason")")
        }
        var wanted: [String: ShippedArtifact] = [:]
        for artifact in artifacts.values.joined() { wanted[artifact.sha256] = artifact }
        if let uv { wanted[uv.sha256] = uv }
        var report = ShipReport()
        var batch: [AgentRequest.Piece] = []
        var batchBytes = 0
        func flush() async throws {
            guard !batch.isEmpty else { return }
            var request = AgentRequest(.receive, target: target, commit: commit, epoch: epoch)
            request.receive = batch
            batch = []
            batchBytes = 0
            let reply = try await send(request, timeout: timeout)
            guard reply.ok else {
                throw ShipError.host("the host refused what was shipped: \(reply.error ?? reply.code ?? "no reason")")
            }
        }
        var sent = Set<String>()
        for missing in answer.missing ?? [] {
            guard let artifact = wanted[missing.sha256], sent.insert(missing.sha256).inserted else { continue }
            let data = try await shipper.data(of: artifact)
            var offset = missing.have <= data.count ? missing.have : 0
            if offset > 0 { report.resumed += 1 }
            report.files += 1
            repeat {
                let length = min(data.count - offset, Self.shipBatchBytes - batchBytes)
                let piece = data.subdata(in: offset..<(offset + length))
                batch.append(.init(name: artifact.name, sha256: artifact.sha256, size: data.count, offset: offset,
                                   data: piece.base64EncodedString()))
                offset += length
                batchBytes += length
                report.bytes += length
                if batchBytes >= Self.shipBatchBytes { try await flush() }
            } while offset < data.count
        }
        try await flush()
        return report
    }
}
