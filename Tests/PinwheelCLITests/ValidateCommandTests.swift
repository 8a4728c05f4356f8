import Foundation
import PinwheelTestSupport
import Testing

@Suite("pinwheel validate, show")
struct ValidateCommandTests {
    @Test func theRepositorysOwnConfigIsValid() throws {
        let result = try CLIRunner.run(["validate", "--repo", CLIRunner.packageRoot.path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("ok: 3 environments (local, production, staging), 3 policies (local, production, staging)"))
    }

    @Test func errorsAreReportedAsPathLineColumnAndExitOne() throws {
        let directory = try TemporaryDirectory()
        try directory.copyExampleConfig()
        let path = "Environments/staging/environment.yaml"
        let text = try String(contentsOfFile: directory.url.appendingPathComponent(path).path, encoding: .utf8)
        try directory.write(path, text.replacingOccurrences(of: "processes: 2", with: "proceses: 2"))
        try directory.write("Environments/staging/B.txt", "hello-service>=1.0\n")
        let result = try CLIRunner.run(["validate", "--repo", directory.path])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("Environments/staging/B.txt:1:1: error: `hello-service>=1.0` is a range, not an exact pin; every slot pins exact versions: write `hello-service==VERSION`"))
        #expect(lines.contains { $0.hasPrefix("Environments/staging/environment.yaml:13:5: error: unknown key `proceses` in program `web`; did you mean `processes`?") })
        #expect(result.stderr.contains("errors found"))
    }

    @Test func githubFormatPrintsWorkflowAnnotations() throws {
        let directory = try TemporaryDirectory()
        try directory.copyExampleConfig()
        let path = "Environments/staging/environment.yaml"
        let text = try String(contentsOfFile: directory.url.appendingPathComponent(path).path, encoding: .utf8)
        try directory.write(path, text.replacingOccurrences(of: "processes: 2", with: "proceses: 2"))
        try directory.write("Environments/staging/B.txt", "hello-service>=1.0\n")
        let result = try CLIRunner.run(["validate", "--repo", directory.path, "--format", "github"])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("::error file=Environments/staging/B.txt,line=1,col=1::`hello-service>=1.0` is a range, not an exact pin; every slot pins exact versions: write `hello-service==VERSION`"), "\(result.stdout)")
        #expect(lines.contains { $0.hasPrefix("::error file=Environments/staging/environment.yaml,line=13,col=5::unknown key `proceses` in program `web`; did you mean `processes`?") }, "\(result.stdout)")
        #expect(lines.allSatisfy { $0.hasPrefix("::error ") || $0.hasPrefix("::warning ") }, "nothing else on standard output")
        #expect(result.stderr.contains("errors found"))

        let valid = try CLIRunner.run(["validate", "--repo", CLIRunner.packageRoot.path, "--format", "github"])
        #expect(valid.status == 0)
        #expect(!valid.stdout.contains("::"))
        #expect(try CLIRunner.run(["validate", "--repo", CLIRunner.packageRoot.path, "--format", "xml"]).status == 2)
    }

    @Test func namingEnvironmentsChecksOnlyThose() throws {
        let directory = try TemporaryDirectory()
        try directory.copyExampleConfig()
        try directory.write("Environments/staging/B.txt", "hello-service\n")
        #expect(try CLIRunner.run(["validate", "--repo", directory.path, "production", "local"]).status == 0)
        #expect(try CLIRunner.run(["validate", "--repo", directory.path, "staging"]).status == 1)
    }

    @Test func usageErrorsExitTwo() throws {
        let unknown = try CLIRunner.run(["validate", "--repo", CLIRunner.packageRoot.path, "nope"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no environment `nope`"))
        #expect(try CLIRunner.run(["validate", "--no-such-flag"]).status == 2)
        let empty = try TemporaryDirectory()
        let notConfig = try CLIRunner.run(["validate", "--repo", empty.path])
        #expect(notConfig.status == 2)
        #expect(notConfig.stderr.contains("no Environments/ folder"))
    }

    @Test func showPrintsTheDesiredState() throws {
        let text = try CLIRunner.run(["show", "production", "--repo", CLIRunner.packageRoot.path])
        #expect(text.status == 0)
        #expect(text.stdout.contains("slot A (A.txt) [active]:"))
        #expect(text.stdout.contains("web-04: deploy@web-04.prod.example.invalid:2222"))
        #expect(text.stdout.contains("web ports: A 9100,9101,9102,9103; B 9200,9201,9202,9203"))

        let json = try CLIRunner.run(["show", "production", "--json", "--repo", CLIRunner.packageRoot.path])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["active"] as? String == "A")
        #expect((object["hosts"] as? [Any])?.count == 4)
    }

    @Test func showOfAnInvalidEnvironmentPrintsItsErrors() throws {
        let directory = try TemporaryDirectory()
        try directory.copyExampleConfig()
        try directory.write("Policies/staging.yaml", "rollout: {batch: none}\n")
        let result = try CLIRunner.run(["show", "staging", "--repo", directory.path])
        #expect(result.status == 1)
        #expect(result.stdout.contains("Policies/staging.yaml:1:18: error: `rollout.batch` must be a number of hosts"))
    }
}
