/// A commit's signature state as a GitHub Actions workflow command, so `validate --rev --format github` in a pull
/// request's workflow shows what the controller will think of the commit next to the config's own annotations.
extension SignatureState {
    /// `::notice title=Signature::commit <id>: good signature by …` when the state is trusted or was not checked,
    /// `::warning …` otherwise: a warning, not an error, because a commit may still be accepted by a signed
    /// `Pinwheel-Accept:` trailer later in the range.
    public func githubAnnotation(commit: String) -> String {
        let command: String
        switch self {
        case .good, .unchecked: command = "notice"
        case .unsigned, .untrusted, .restricted, .bad, .unsupported: command = "warning"
        }
        return "::\(command) title=\(Diagnostic.escapeProperty("Signature"))::"
            + Diagnostic.escapeData("commit \(commit): \(self)")
    }
}
