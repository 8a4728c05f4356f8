import Testing

extension Tag {
    /// Suites that start a real loopback fleet (sshd, supervisord, nginx, a package index): minutes, not seconds.
    @Tag public static var fleet: Self

    /// Suites that check the Debian package scripts/package builds (a release build: minutes, unless scripts/test
    /// built it already and names it in `$PINWHEEL_PACKAGE`).
    @Tag public static var package: Self

    /// Hostile cases (issue 18's trust boundary): what a pull request, a compromised host or someone on the network
    /// tries, run against real components, each asserting that the harm did not happen.
    @Tag public static var security: Self
}
