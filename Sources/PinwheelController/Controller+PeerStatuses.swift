import PinwheelGit

extension Controller {
    /// With several replicas, what the others record: each environment another replica owns has its newest status
    /// read back from the status branch whenever that branch moves, so every replica's page and API show every
    /// environment and which replica owns it, not only the ones it acts on. Only a status file that changed since
    /// is read again (with a status key, each read verifies signatures). Without coordination, nothing to do.
    func refreshPeerStatuses(_ repository: WatchedRepository) async {
        guard let coordination, let others = await coordination.othersEnvironments(),
              let tip = try? repository.statusTip(), peerStatuses.moved(to: tip) else { return }
        for name in others {
            guard let file = repository.statusFileID(of: name, at: tip), peerStatuses.isNew(name, file: file) else { continue }
            await publisher.reread(name, repository: repository)
        }
    }
}
