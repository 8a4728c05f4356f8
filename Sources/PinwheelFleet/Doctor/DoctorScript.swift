import Foundation

/// The host doctor: `pinwheel_doctor.py` (standard library only), embedded in the binary at build time and sent to
/// each host by `pinwheel doctor`, as the agent is for the other commands.
///
/// It is a file of its own, not a request of the agent, because it must run where the agent cannot yet: on a host
/// whose configured interpreter is missing (it then runs on the host's `python3`) or whose folders do not exist.
/// Its unit tests are `Tests/AgentTests/test_doctor.py`.
enum DoctorScript {
    static let source = String(decoding: PackageResources.pinwheel_doctor_py, as: UTF8.self)

    static let encodedSource = Data(source.utf8).base64EncodedString()
}
