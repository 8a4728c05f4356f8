import Foundation
import PinwheelCore

/// What the host doctor is asked to check: the host's settings as the environment resolves them, as JSON.
struct DoctorRequest: Encodable, Sendable {
    /// The version of the request and reply format; the doctor refuses any other.
    static let protocolVersion = 1

    var `protocol` = DoctorRequest.protocolVersion
    var app: String
    var environment: String
    var python: String
    var settings: HostSettings
    /// The least room a slot's build is assumed to need; the doctor asks for twice the largest of this and the
    /// builds already on the host.
    var slotBytes: Int

    /// The program sent to the host: a loader, the request and the doctor, both base64 so that no byte of them is
    /// ever parsed as code.
    func script() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let request = try encoder.encode(self).base64EncodedString()
        return """
            import base64
            doctor = {"__name__": "pinwheel_doctor"}
            exec(compile(base64.b64decode("\(DoctorScript.encodedSource)").decode("utf-8"), "pinwheel_doctor.py", "exec"), doctor)
            doctor["main"]("\(request)")

            """
    }
}
