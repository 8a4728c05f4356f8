import Foundation

/// What the host doctor answered (protocol 1).
struct DoctorReply: Decodable, Sendable {
    var `protocol`: Int?
    var ok: Bool
    var error: String?
    /// The host's clock when the doctor started, in seconds since the epoch.
    var time: Double?
    var checks: [HostCheck]?

    static let marker = "PINWHEEL-DOCTOR "

    /// Finds the doctor's answer in what the host printed; nil when the doctor never got to answer.
    static func parse(_ output: String) -> DoctorReply? {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix(marker) }) else { return nil }
        return try? JSONDecoder().decode(DoctorReply.self, from: Data(line.dropFirst(marker.count).utf8))
    }
}
