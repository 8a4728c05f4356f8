import PinwheelCore

/// A host's reply is whatever the host printed: a compromised host can put megabytes into any string of it. Each
/// reply is therefore cut to bounded size as it is decoded — one line at most ``UntrustedText/replyLimit`` bytes,
/// each string at most ``UntrustedText/hostStringLimit`` UTF-16 code units, each step's output its last
/// ``UntrustedText/outputLineLimit`` lines — before anything else (a status commit, a notification, the page, the
/// terminal) sees it. Escaping happens where the text leaves the process, not here: the model keeps the host's
/// words, bounded.
enum HostReplyBounds {
    /// The JSON after `marker` on the last line of `output` that starts with it, when that line is within
    /// ``UntrustedText/replyLimit``; nil when there is no such line or it is too long to be read.
    static func replyLine(in output: String, marker: String) -> Substring? {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix(marker) }),
              line.utf8.count <= UntrustedText.replyLimit else { return nil }
        return line.dropFirst(marker.count)
    }

    static func string(_ text: String) -> String {
        UntrustedText.bounded(text, limit: UntrustedText.hostStringLimit)
    }

    static func lines(_ lines: [String]) -> [String] {
        lines.suffix(UntrustedText.outputLineLimit).map(string)
    }
}

extension AgentReply {
    /// This reply with every string bounded (see ``HostReplyBounds``).
    func bounded() -> AgentReply {
        var reply = self
        reply.code = code.map(HostReplyBounds.string)
        reply.error = error.map(HostReplyBounds.string)
        reply.steps = steps?.map { step in
            var step = step
            step.output = HostReplyBounds.lines(step.output)
            step.code = step.code.map(HostReplyBounds.string)
            step.error = step.error.map(HostReplyBounds.string)
            return step
        }
        reply.observation = observation?.bounded()
        reply.missing = missing?.prefix(10_000).filter { ShippedArtifact.isSHA256($0.sha256) && $0.have >= 0 }
        return reply
    }
}

extension HostObservation {
    /// This observation with every string the host wrote bounded (see ``HostReplyBounds``).
    func bounded() -> HostObservation {
        var observation = self
        observation.routedFingerprint = routedFingerprint.map(HostReplyBounds.string)
        observation.platform = platform?.checked()
        for slot in Slot.allCases {
            var state = observation.slots[slot]
            state.problems = HostReplyBounds.lines(state.problems)
            // Two long names may be cut to the same text: the first one kept.
            state.processes = Dictionary(state.processes.prefix(1000).map {
                (HostReplyBounds.string($0.key), HostReplyBounds.lines($0.value))
            }, uniquingKeysWith: { first, _ in first })
            if var manifest = state.manifest {
                manifest.fingerprint = HostReplyBounds.string(manifest.fingerprint)
                manifest.pins = manifest.pins.prefix(10_000).map(HostReplyBounds.string)
                manifest.commit = manifest.commit.map(HostReplyBounds.string)
                manifest.preparedAt = manifest.preparedAt.map(HostReplyBounds.string)
                manifest.installer = manifest.installer.map(HostReplyBounds.string)
                manifest.servedAt = manifest.servedAt.map(HostReplyBounds.string)
                manifest.artifacts = manifest.artifacts.map { Array($0.prefix(10_000).filter(ShippedArtifact.isSHA256)) }
                state.manifest = manifest
            }
            observation.slots[slot] = state
        }
        return observation
    }
}

extension DoctorReply {
    /// This reply with every string bounded (see ``HostReplyBounds``).
    func bounded() -> DoctorReply {
        var reply = self
        reply.error = error.map(HostReplyBounds.string)
        reply.checks = checks?.prefix(200).map { check in
            var check = check
            check.name = HostReplyBounds.string(check.name)
            check.detail = HostReplyBounds.string(check.detail)
            check.fix = check.fix.map(HostReplyBounds.string)
            return check
        }
        return reply
    }
}
