import PinwheelGit

/// What a replica last read of the statuses other replicas record: the status branch's tip it looked at, and each
/// environment's status file it read, so a status is read again (with a status key, its signatures verified again)
/// only when its file changed.
struct PeerStatusReads {
    private var tip: ObjectID?
    private var files: [String: ObjectID] = [:]

    /// Whether the status branch moved since it was last looked at, noting `tip`.
    mutating func moved(to tip: ObjectID) -> Bool {
        guard tip != self.tip else { return false }
        self.tip = tip
        return true
    }

    /// Whether `environment`'s status file `file` was not read yet, noting it.
    mutating func isNew(_ environment: String, file: ObjectID) -> Bool {
        guard files[environment] != file else { return false }
        files[environment] = file
        return true
    }

    /// Forgets what it read of `environment` and looks at the branch again on the next poll: the replica stopped
    /// recording it itself.
    mutating func forget(_ environment: String) {
        files[environment] = nil
        tip = nil
    }
}
