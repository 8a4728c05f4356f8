import ArgumentParser
import PinwheelConfig
import PinwheelCore
import PinwheelReleases

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check environments and the policies they use; report every error as path:line:column.",
        discussion: """
            Checks every environment (or those named) and the policies they use, and prints every error as \
            `path:line:column: error: message; hint` (the compiler convention editors understand), or with --format \
            github as GitHub Actions workflow commands (`::error file=Environments/staging/B.txt,line=1,col=1::…`, \
            `::warning` for warnings), so a pull request's changed lines are annotated. In GitHub's format `%`, CR \
            and LF in a message are written `%25`, `%0D`, `%0A`, and in the `file` property `:` and `,` also become \
            `%3A` and `%2C`. Paths are relative to --repo: run it from the root of the checkout.

            Without --rev the files on disk are read; with --rev (a branch, tag, SHA or HEAD~1) that commit is read \
            through libgit2, without a work tree. Only regular files inside the repository are read: a symbolic link \
            is an error at `path:1:1` and is never followed, so validate is safe to run in CI on untrusted pull \
            requests.

            With --rev it first prints the commit's signature state: `commit <id>: good signature by \
            alice@example.com (ED25519 SHA256:…)`, `unsigned`, `signed by an untrusted key (…)`, `bad signature: …`, \
            or `signed, not checked` without --allowed-signers or --openpgp-keys. With --format github the same is \
            an annotation: `::notice title=Signature::commit <id>: good signature by …` when trusted or not checked, \
            `::warning …` otherwise (a warning: a signed `Pinwheel-Accept:` trailer may still accept the commit).

            Exit status 0 when valid, 1 when not, 2 on a usage error.
            """
    )

    /// How diagnostics are printed.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        /// `path:line:column: error: message`, the compiler convention editors understand.
        case text
        /// GitHub Actions workflow commands (`::error file=…,line=…,col=…::message`): a pull request's changed
        /// lines are annotated.
        case github
    }

    @OptionGroup var repository: RepositoryOptions

    @Option(help: ArgumentHelp("How to print what is wrong: text (path:line:column) or github (Actions annotations).",
                               valueName: "format"))
    var format: Format = .text

    /// With --rev: the keys the commit's signature is checked against.
    @OptionGroup var trustedKeys: TrustedKeyOptions

    @Argument(help: ArgumentHelp("Environments to check (all when none are named).", valueName: "env"))
    var environments: [String] = []

    func validate() throws {
        if !trustedKeys.trusted.isEmpty, repository.rev == nil {
            throw ExitError.usage("\(TrustedKeys.options) checks a commit: give --rev too")
        }
    }

    func run() async throws {
        let report = try loadReport(repository, environments)
        if repository.rev != nil, let source = try? repository.source() as? CommitConfigSource {
            // The commit's signature, as the controller would see it with the same allowed signers.
            let verifier = SignatureVerifier(trusted: trustedKeys.trusted)
            let state = try await GitSupport.reporting { try await verifier.state(of: source.commit, in: source.repository) }
            switch format {
            case .text: print("commit \(source.commit.hex): \(state)")
            case .github: print(state.githubAnnotation(commit: source.commit.hex))
            }
        }
        for diagnostic in report.diagnostics {
            switch format {
            case .text: print(diagnostic)
            case .github: print(diagnostic.githubAnnotation)
            }
        }
        let errors = report.diagnostics.filter { $0.severity == .error }.count
        if errors > 0 {
            throw ExitError.failed("\(errors) error\(errors == 1 ? "" : "s") found")
        }
        let names = report.environments.keys.sorted()
        let policies = report.policies.keys.sorted()
        print("ok: \(names.count) environment\(names.count == 1 ? "" : "s") (\(names.joined(separator: ", "))), "
              + "\(policies.count) polic\(policies.count == 1 ? "y" : "ies") (\(policies.joined(separator: ", ")))")
    }
}

/// Loads the config, turning "no such environment" and unreadable repositories into usage errors.
func loadReport(_ options: RepositoryOptions, _ names: [String]) throws -> ConfigReport {
    do {
        let loader = ConfigLoader(source: try options.source())
        if options.rev == nil, (try? loader.environmentNames())?.isEmpty == true, (try? options.source().entries(of: ConfigLoader.environmentsFolder)) == nil {
            throw ExitError.usage("\(options.repo) has no Environments/ folder: is --repo the config repository?")
        }
        return try loader.load(names)
    } catch let error as ConfigLoader.UnknownEnvironment {
        throw ExitError.usage(error.description)
    } catch let error as ExitError {
        throw error
    } catch {
        throw ExitError.usage("cannot read the config repository: \(error)")
    }
}
