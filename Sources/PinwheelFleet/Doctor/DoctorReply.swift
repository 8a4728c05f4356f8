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

    /// Finds the doctor's answer in what the host printed, bounded (``HostReplyBounds``); nil when the doctor never got
    /// to answer.
    static func parse(_ output: String) -> DoctorReply? {
        guard let json = HostReplyBounds.replyLine(in: output, marker: marker) else { return nil }
        return (try? JSONDecoder().decode(DoctorReply.self, from: Data(json.utf8)))?.bounded()
    }
}
