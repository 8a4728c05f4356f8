/// Which controller replica recorded a status, under which lease epoch: with several controllers (`watch
/// --coordination`) the status branch then says who acted on the environment, and a takeover (a higher epoch, another
/// replica) is visible in its history.
public struct LeaseStamp: Sendable, Hashable, Codable {
    /// The replica's name (`watch --replica`, by default the machine's name and the process id).
    public var replica: String
    /// The environment's lease epoch the replica held: the fencing token its host requests carried.
    public var epoch: Int64

    public init(replica: String, epoch: Int64) {
        self.replica = replica
        self.epoch = epoch
    }
}
