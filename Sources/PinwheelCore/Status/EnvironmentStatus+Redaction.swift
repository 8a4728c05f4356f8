extension EnvironmentStatus {
    /// This status with every known secret value (a webhook secret, a token the controller holds) replaced in the
    /// text it carries from hosts and programs: its message, its errors, each host's error. For what is shown
    /// outside git (the page, the API, notifications): a failing program that prints its own command line or
    /// environment must not hand the controller's secrets to whoever reads the page.
    public func redacting(_ secrets: [String]) -> EnvironmentStatus {
        guard !secrets.isEmpty else { return self }
        var status = self
        status.message = UntrustedText.redacting(secrets, in: message)
        status.errors = errors.map { UntrustedText.redacting(secrets, in: $0) }
        for (name, host) in hosts {
            var host = host
            host.error = host.error.map { UntrustedText.redacting(secrets, in: $0) }
            status.hosts[name] = host
        }
        return status
    }
}
