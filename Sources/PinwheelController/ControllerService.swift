import ServiceLifecycle

/// Runs the controller's loop as a service: a graceful shutdown (SIGTERM) lets the host steps under way finish,
/// starts no new one, and then returns.
public struct ControllerService: Service {
    public let controller: Controller

    public init(controller: Controller) {
        self.controller = controller
    }

    public func run() async throws {
        let controller = self.controller
        await withGracefulShutdownHandler {
            await controller.run()
        } onGracefulShutdown: {
            Task { await controller.stop() }
        }
    }
}
