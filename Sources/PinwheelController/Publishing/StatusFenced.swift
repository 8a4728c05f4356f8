import PinwheelCore

/// A status not recorded because a later owner of the environment (a higher lease epoch) has recorded one since:
/// the replica that holds it lost its lease between deciding to publish and pushing, and the new owner's word stands.
public struct StatusFenced: Error, CustomStringConvertible, Sendable {
    public var environment: String
    public var stamp: LeaseStamp
    public var recorded: LeaseStamp

    public var description: String {
        "\(environment): not recording the status of \(stamp.replica) (lease epoch \(stamp.epoch)): \(recorded.replica) "
            + "recorded one under lease epoch \(recorded.epoch) since, and owns the environment now"
    }
}
