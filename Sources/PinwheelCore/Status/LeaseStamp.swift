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

    /// Whether a status stamped with this may still be recorded on a status branch whose newest status of the
    /// environment was recorded under `recorded`: not once a later owner (a higher epoch) has recorded there, so a
    /// replica that lost its lease between its last check and its push cannot write over the new owner's word. A
    /// status recorded without an owner (a controller alone, an `apply` without the lease) fences nothing.
    public func mayFollow(_ recorded: LeaseStamp?) -> Bool {
        guard let recorded else { return true }
        return recorded.epoch <= epoch
    }
}
