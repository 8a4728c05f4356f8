import PinwheelGit

extension Controller {
    /// With several replicas, what the others record: each environment another replica owns has its newest status
    /// read back from the status branch whenever that branch moves, so every replica's page and API show every
    /// environment and which replica owns it, not only the ones it acts on. Without coordination, nothing to do.
    func refreshPeerStatuses(_ repository: WatchedRepository) async {
        guard let coordination, let tip = try? repository.statusTip(), tip != peerStatusTip,
              let others = await coordination.othersEnvironments() else { return }
        peerStatusTip = tip
        for name in others {
            await publisher.reread(name, repository: repository)
        }
    }
}
