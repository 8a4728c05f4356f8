import Foundation
import PinwheelTestSupport
import Testing
import PinwheelWebhooks
@testable import pinwheel

/// One way to read a secret an option names (`watch`'s webhook secret and access token, the Prometheus token, the
/// coordination password): both options at once refused, the secret read and trimmed the same way, and every
/// failure a usage error naming the option and the place — never the secret.
@Suite("SecretSource")
struct SecretSourceTests {
    static func webhook(environment: String? = nil, file: String? = nil) throws(ExitError) -> SecretSource? {
        try SecretSource.from("the webhook secret", environment: ("--webhook-secret-env", environment),
                              file: ("--webhook-secret-file", file))
    }

    @Test func aPairOfOptionsNamesAtMostOnePlace() throws {
        #expect(try Self.webhook() == nil)
        #expect(try Self.webhook(environment: "HOOK")?.place == .environment("HOOK"))
        #expect(try Self.webhook(environment: "HOOK")?.option == "--webhook-secret-env")
        #expect(try Self.webhook(file: "/etc/hook")?.place == .file("/etc/hook"))
        #expect(throws: ExitError.usage("give the webhook secret once: --webhook-secret-env or --webhook-secret-file")) {
            try Self.webhook(environment: "HOOK", file: "/etc/hook")
        }
    }

    @Test func aVariableIsReadWithItsTrailingNewlineTrimmedAndEveryFailureNamesTheOption() throws {
        let source = try #require(try Self.webhook(environment: "HOOK"))
        #expect(try source.load(environment: ["HOOK": "s3cret\n"]).textForRedaction == "s3cret")
        do {
            _ = try source.load(environment: [:])
            Issue.record("a missing variable was read")
        } catch {
            #expect(error.code == 2)
            #expect(error.message?.hasPrefix("--webhook-secret-env HOOK: the environment variable is not set") == true, "\(error)")
        }
        #expect(throws: ExitError.usage("--webhook-secret-env HOOK: the environment variable is empty; set it to the webhook secret")) {
            try source.load(environment: ["HOOK": "\n"])
        }
    }

    @Test func aFileIsReadAndAMissingOrEmptyOneSaysWhatToDo() throws {
        let folder = try TemporaryDirectory()
        try folder.write("hook", "from-a-file\r\n")
        try folder.write("empty", "\n")
        let file = try #require(try Self.webhook(file: folder.path + "/hook"))
        #expect(try file.load().textForRedaction == "from-a-file")
        let missing = try #require(try Self.webhook(file: folder.path + "/nope"))
        #expect(throws: ExitError.usage("--webhook-secret-file \(folder.path)/nope: no such file; create it (mode 0600) holding the webhook secret")) {
            try missing.load()
        }
        let empty = try #require(try Self.webhook(file: folder.path + "/empty"))
        #expect(throws: ExitError.usage("--webhook-secret-file \(folder.path)/empty: the file is empty; write the webhook secret into it")) {
            try empty.load()
        }
        let directory = try #require(try Self.webhook(file: folder.path))
        #expect(throws: ExitError.usage("--webhook-secret-file \(folder.path): cannot be read; it must be a regular file that pinwheel's user can read")) {
            try directory.load()
        }
    }

    @Test func aDescriptionNamesTheOptionAndThePlaceNeverTheSecret() throws {
        let secret = "hunter2-\(UUID().uuidString)"
        let source = try #require(try Self.webhook(environment: "HOOK"))
        #expect(try source.load(environment: ["HOOK": secret]).textForRedaction == secret)
        #expect(source.description == "the webhook secret (--webhook-secret-env environment variable HOOK)")
        #expect(try Self.webhook(file: "/etc/hook")?.description == "the webhook secret (--webhook-secret-file file /etc/hook)")
    }

    @Test func theCoordinationPasswordMayBeAbsentUnlessAFileIsNamed() throws {
        let fromEnvironment = CoordinationOptions.passwordSource(file: nil)
        #expect(try fromEnvironment.loadIfSet(environment: [:]) == nil, "a database that trusts the connection needs none")
        #expect(try fromEnvironment.loadIfSet(environment: ["PINWHEEL_COORDINATION_PASSWORD": ""]) == nil)
        #expect(try fromEnvironment.loadIfSet(environment: ["PINWHEEL_COORDINATION_PASSWORD": "pw\n"]) == "pw")
        let folder = try TemporaryDirectory()
        let fromFile = CoordinationOptions.passwordSource(file: folder.path + "/password")
        #expect(throws: ExitError.self) { try fromFile.loadIfSet(environment: [:]) }
        try folder.write("password", "from-file\n")
        #expect(try fromFile.loadIfSet(environment: ["PINWHEEL_COORDINATION_PASSWORD": "ignored"]) == "from-file")
    }

    @Test func bothOptionsOfAPairAreAUsageErrorOfTheCommand() throws {
        for (arguments, message) in [
            (["--webhook-secret-env", "A", "--webhook-secret-file", "/b"],
             "give the webhook secret configured on the git host once: --webhook-secret-env or --webhook-secret-file"),
            (["--listen", "127.0.0.1:9", "--access-token-env", "A", "--access-token-file", "/b"],
             "give the access token once: --access-token-env or --access-token-file"),
            (["--prometheus", "http://127.0.0.1:9090", "--prometheus-token-env", "A", "--prometheus-token-file", "/b"],
             "give the Prometheus bearer token once: --prometheus-token-env or --prometheus-token-file"),
        ] {
            do {
                _ = try PinwheelCommand.parseAsRoot(["watch", "--repo", "/nonexistent"] + arguments)
                Issue.record("\(arguments) parsed")
            } catch {
                #expect(ExitError.thrown(in: error) == .usage(message), "\(error)")
                #expect(ExitError.command(in: error) is Watch.Type)
            }
        }
    }
}
