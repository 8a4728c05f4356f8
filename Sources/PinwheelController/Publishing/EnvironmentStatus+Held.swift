import Foundation
import PinwheelCore
import PinwheelGit

extension EnvironmentStatus {
    /// A status for a commit that was held back (admission refused it or made it wait): the hosts keep what the
    /// previous status says.
    static func held(_ name: String, commit: ObjectID, result: EnvironmentStatus.Result, message: String,
                     previous: EnvironmentStatus?) -> EnvironmentStatus {
        EnvironmentStatus(environment: name, desired: commit.hex, result: result, message: message, time: Controller.now(),
                          active: previous?.active, pins: previous?.pins ?? [], hosts: previous?.hosts ?? [:],
                          applied: previous?.lastApplied, python: previous?.python)
    }

    /// A status for a commit whose config is not valid: nothing applied, the hosts keep what `applied` (the commit
    /// last carried out, when the controller remembers it) and the previous status say.
    static func invalid(_ name: String, commit: ObjectID, diagnostics: [Diagnostic], applied: ObjectID?,
                        previous: EnvironmentStatus?) -> EnvironmentStatus {
        EnvironmentStatus(
            environment: name, desired: commit.hex, result: .invalid,
            message: "the config at \(commit.short) is not valid; the hosts keep what was last applied"
                + (applied.map { " (\($0.short))" } ?? ""),
            time: Controller.now(), active: previous?.active, pins: previous?.pins ?? [], hosts: previous?.hosts ?? [:],
            errors: diagnostics.map(\.description), applied: previous?.lastApplied)
    }
}
