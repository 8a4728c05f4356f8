import ServiceLifecycle

/// Runs a replica's ``LeaseKeeper`` as a service. `watch` lists it before the controller: a graceful shutdown ends
/// services in reverse order, so the controller's steps have finished when the keeper releases the leases and leaves.
public struct CoordinationService: Service {
    public let keeper: LeaseKeeper

    public init(keeper: LeaseKeeper) {
        self.keeper = keeper
    }

    public func run() async throws {
        let keeper = keeper
        await withGracefulShutdownHandler {
            await keeper.run()
        } onGracefulShutdown: {
            Task { await keeper.stop() }
        }
    }
}
