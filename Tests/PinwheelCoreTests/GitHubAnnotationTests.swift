import Testing
@testable import PinwheelCore

/// `validate --format github`: diagnostics as GitHub Actions workflow commands.
@Suite("GitHub annotations")
struct GitHubAnnotationTests {
    @Test func anErrorNamesItsFileLineAndColumn() {
        let diagnostic = Diagnostic(.error, at: SourceLocation(path: "Environments/prod/B.txt", line: 3, column: 7),
                                    "`flask>=2` is a range", hint: "write `flask==VERSION`")
        #expect(diagnostic.githubAnnotation == "::error file=Environments/prod/B.txt,line=3,col=7::`flask>=2` is a range; write `flask==VERSION`")
    }

    @Test func aWarningIsAWarning() {
        let diagnostic = Diagnostic(.warning, at: SourceLocation(path: "Policies/prod.yaml"), "unused policy")
        #expect(diagnostic.githubAnnotation == "::warning file=Policies/prod.yaml,line=1,col=1::unused policy")
    }

    @Test func messagesEscapePercentAndLineBreaks() {
        let diagnostic = Diagnostic(.error, at: SourceLocation(path: "a.yaml"), "100% wrong:\r\nsecond line, third: part")
        #expect(diagnostic.githubAnnotation == "::error file=a.yaml,line=1,col=1::100%25 wrong:%0D%0Asecond line, third: part")
    }

    @Test func controlCharactersCannotColorReorderOrInjectACommand() {
        // A commit's text with an ANSI color, a bidi override and a NUL, and a line that would be a command of its own.
        let diagnostic = Diagnostic(.error, at: SourceLocation(path: "a\u{1B}[31m.yaml"),
                                    "bad \u{1B}[1;31mred\u{202E}txt.exe\u{0}\n::add-mask::x")
        #expect(diagnostic.githubAnnotation
            == "::error file=a\\u{1B}[31m.yaml,line=1,col=1::bad \\u{1B}[1;31mred\\u{202E}txt.exe\\u{00}%0A::add-mask::x")
        #expect(!diagnostic.githubAnnotation.unicodeScalars.contains { UntrustedText.isControl($0) })
    }

    @Test func propertiesAlsoEscapeColonsAndCommas() {
        #expect(Diagnostic.escapeProperty("Environments/a,b:c/%\n.yaml") == "Environments/a%2Cb%3Ac/%25%0A.yaml")
        let diagnostic = Diagnostic(.error, at: SourceLocation(path: "x:y,z.txt", line: 2, column: 1), "m")
        #expect(diagnostic.githubAnnotation == "::error file=x%3Ay%2Cz.txt,line=2,col=1::m")
    }

    @Test func aSignatureIsANoticeWhenTrustedAndAWarningOtherwise() {
        let good = SignatureState.good(principal: "alice@example.com", key: "ED25519 SHA256:abc")
        #expect(good.githubAnnotation(commit: "3f2a")
            == "::notice title=Signature::commit 3f2a: good signature by alice@example.com (ED25519 SHA256:abc)")
        #expect(SignatureState.unchecked.githubAnnotation(commit: "3f2a").hasPrefix("::notice "))
        let bad = SignatureState.bad(reason: "incorrect signature\n100%")
        #expect(bad.githubAnnotation(commit: "3f2a") == "::warning title=Signature::commit 3f2a: bad signature: incorrect signature%0A100%25")
        for state: SignatureState in [.unsigned, .untrusted(key: "k"), .restricted(key: "k", reason: "expired"), .unsupported(format: "OpenPGP")] {
            #expect(state.githubAnnotation(commit: "3f2a").hasPrefix("::warning title=Signature::commit 3f2a: "), "\(state)")
        }
    }
}
