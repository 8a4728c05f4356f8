/// What a program reads on standard input: texts written one after another, as if joined.
///
/// Kept in pieces so that a large text many runs share is written from one copy: the host agent's source (about
/// 200 KB, base64) is the same for every host, and joining it into each host's program would hold a copy per host in
/// flight (64 at once) for as long as its ssh runs, and a second one while the input file is written.
public struct ProcessInput: Sendable, Equatable, ExpressibleByStringInterpolation {
    /// The texts, in the order the program reads them.
    public var parts: [String]

    public init(parts: [String]) {
        self.parts = parts
    }

    public init(_ text: String) {
        parts = [text]
    }

    public init(stringLiteral text: String) {
        parts = [text]
    }

    /// The whole input as one text: for what needs it in one piece (a command line, a test's check), never for a run.
    public var text: String {
        parts.joined()
    }
}
