import Testing

extension Tag {
    /// Suites that start a real loopback fleet (sshd, supervisord, nginx, a package index): minutes, not seconds.
    @Tag public static var fleet: Self

    /// Suites that check the Debian package scripts/package builds (a release build: minutes, unless scripts/test
    /// built it already and names it in `$PINWHEEL_PACKAGE`).
    @Tag public static var package: Self

    /// The trust-boundary suites: one hostile case per rule of the README's security model, each against real
    /// components (git repositories, sshd hosts, the agent), asserting the harm did not happen and the error says why.
    @Tag public static var security: Self
}
