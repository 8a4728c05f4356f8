import Testing

extension Tag {
    /// Suites that start a real loopback fleet (sshd, supervisord, nginx, a package index): minutes, not seconds.
    @Tag public static var fleet: Self
}
