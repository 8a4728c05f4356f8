import Foundation
import PinwheelCore

/// What the host doctor is asked to check: the host's settings as the environment resolves them, as JSON.
struct DoctorRequest: Encodable, Sendable {
    /// The version of the request and reply format; the doctor refuses any other.
    static let protocolVersion = 1

    var `protocol` = DoctorRequest.protocolVersion
    var app: String
    var environment: String
    /// The interpreter the doctor runs on (the environment's), checked as `python`.
    var python: String
    /// Every interpreter to check: the environment's (`python`) and each slot's own when it has another
    /// (`python (slot B)`).
    var interpreters: [Interpreter]
    var settings: HostSettings
    /// The least room a slot's build is assumed to need; the doctor asks for twice the largest of this and the
    /// builds already on the host.
    var slotBytes: Int
    /// Whether the agent verifies a switch through Pinwheel's probe: only when a web program has a health check for
    /// the probe to proxy to (and `nginx.probe` is not off, which the settings say).
    var probed: Bool
    /// The uv the controller ships to hosts without one (`source: {ship: {…, uv: VERSION}}`): such a host needs no pip.
    var shippedUV: String?

    struct Interpreter: Encodable, Sendable, Equatable {
        var name: String
        var path: String
    }

    /// The environment's interpreter and each slot's own one that differs from it.
    static func interpreters(of environment: Environment) -> [Interpreter] {
        var result = [Interpreter(name: "python", path: environment.python)]
        for slot in Slot.allCases where environment.python(of: slot) != environment.python {
            result.append(Interpreter(name: "python (slot \(slot.rawValue))", path: environment.python(of: slot)))
        }
        return result
    }

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
