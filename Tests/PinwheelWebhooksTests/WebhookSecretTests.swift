import Foundation
import Testing

@testable import PinwheelWebhooks

@Suite("WebhookSecret")
struct WebhookSecretTests {
    @Test func fromEnvironment() throws {
        let secret = try WebhookSecret.environment("HOOK_SECRET").load(environment: ["HOOK_SECRET": "s3cret\n"])
        #expect(secret == SecretBytes("s3cret"))
    }

    @Test func missingOrEmptyEnvironmentVariable() {
        #expect(throws: WebhookSecretError.environmentVariableMissing(name: "HOOK_SECRET")) {
            try WebhookSecret.environment("HOOK_SECRET").load(environment: [:])
        }
        #expect(throws: WebhookSecretError.environmentVariableEmpty(name: "HOOK_SECRET")) {
            try WebhookSecret.environment("HOOK_SECRET").load(environment: ["HOOK_SECRET": "\n"])
        }
    }

    @Test func fromFileTrimsOneTrailingNewline() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (content, expected) in [("s3cret\n", "s3cret"), ("s3cret\r\n", "s3cret"), ("s3cret", "s3cret"), (" s3 cret \n\n", " s3 cret \n")] {
            let path = folder + "/secret"
            try Data(content.utf8).write(to: URL(fileURLWithPath: path))
            #expect(try WebhookSecret.file(path).load() == SecretBytes(expected))
        }
    }

    @Test func missingEmptyOrUnreadableFile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(throws: WebhookSecretError.fileMissing(path: folder + "/nope")) {
            try WebhookSecret.file(folder + "/nope").load()
        }
        try Data("\n".utf8).write(to: URL(fileURLWithPath: folder + "/empty"))
        #expect(throws: WebhookSecretError.fileEmpty(path: folder + "/empty")) {
            try WebhookSecret.file(folder + "/empty").load()
        }
        #expect(throws: WebhookSecretError.fileUnreadable(path: folder)) {
            try WebhookSecret.file(folder).load()
        }
    }

    @Test func errorMessagesAreActionable() {
        #expect("\(WebhookSecretError.environmentVariableMissing(name: "HOOK_SECRET"))".contains("HOOK_SECRET is not set"))
        #expect("\(WebhookSecretError.fileEmpty(path: "/etc/pinwheel/hook"))".contains("/etc/pinwheel/hook is empty"))
    }

    @Test func secretNeverPrints() {
        let secret = SecretBytes("s3cret")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("s3cret"))
        #expect(!dumped.contains("115"))  // "s" as a byte
        #expect("\(WebhookSecret.environment("HOOK_SECRET"))" == "environment variable HOOK_SECRET")
    }

    private func temporaryFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pinwheel-webhooks-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
