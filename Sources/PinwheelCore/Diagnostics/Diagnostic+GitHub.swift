/// Diagnostics as GitHub Actions workflow commands, which annotate the offending line of a pull request:
/// `::error file=Environments/prod/B.txt,line=1,col=1::message`.
///
/// Escaped as GitHub's runner expects (its `toolkit/core` `command.ts`): in the message `%`, CR and LF; in a
/// property's value also `:` and `,`, which would otherwise end the value. Other control characters (an ANSI
/// escape, a NUL, a bidi override: from a commit's text or a host) are shown as ``UntrustedText/visible(_:)``
/// writes them, so an annotation can neither color nor reorder the log it appears in, nor hide a workflow command
/// of its own in it.
extension Diagnostic {
    public var githubAnnotation: String {
        let command = severity == .error ? "error" : "warning"
        let properties = [("file", location.path), ("line", "\(location.line)"), ("col", "\(location.column)")]
            .map { "\($0.0)=\(Self.escapeProperty($0.1))" }
            .joined(separator: ",")
        let text = hint.map { "\(message); \($0)" } ?? message
        return "::\(command) \(properties)::\(Self.escapeData(text))"
    }

    /// A workflow command's message: `%`, CR and LF escaped.
    public static func escapeData(_ text: String) -> String {
        escape(text, property: false)
    }

    /// A workflow command's property value: as a message, and `:` and `,` too.
    public static func escapeProperty(_ text: String) -> String {
        escape(text, property: true)
    }

    private static func escape(_ text: String, property: Bool) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "%": escaped += "%25"
            case "\r": escaped += "%0D"
            case "\n": escaped += "%0A"
            case ":" where property: escaped += "%3A"
            case "," where property: escaped += "%2C"
            case _ where UntrustedText.isControl(scalar): escaped += UntrustedText.visible(scalar)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
