import PinwheelCore

extension NotificationEvent {
    /// This event with every known secret value replaced in its text (title, message, each host's error): a
    /// notification goes to a chat or a webhook outside the controller, and a failing program's output in it must
    /// not carry the controller's secrets along.
    func redacting(_ secrets: [String]) -> NotificationEvent {
        guard !secrets.isEmpty else { return self }
        var event = self
        event.title = UntrustedText.redacting(secrets, in: title)
        event.message = UntrustedText.redacting(secrets, in: message)
        event.summary = summary.map { UntrustedText.redacting(secrets, in: $0) }
        event.hosts = hosts.map { host in
            var host = host
            host.error = host.error.map { UntrustedText.redacting(secrets, in: $0) }
            return host
        }
        return event
    }
}
