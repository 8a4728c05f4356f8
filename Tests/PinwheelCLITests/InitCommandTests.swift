import Foundation
import PinwheelTestSupport
import Testing

/// `pinwheel init` as a user runs it: the repository it writes validates through `pinwheel validate` itself, its nginx
/// pieces pass a real `nginx -t`, and it never overwrites a file.
@Suite("pinwheel init")
struct InitCommandTests {
    func read(_ directory: TemporaryDirectory, _ path: String) throws -> String {
        try String(contentsOfFile: directory.url.appendingPathComponent(path).path, encoding: .utf8)
    }

    @Test func theRepositoryItWritesValidates() throws {
        let directory = try TemporaryDirectory()
        let repository = directory.url.appendingPathComponent("shop").path
        let result = try CLIRunner.run(["init", repository, "--app", "my-shop", "--hosts", "web-01.prod.example.com,10.0.0.12,db=10.0.0.13"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("pinwheel doctor production"))
        let validate = try CLIRunner.run(["validate", "--repo", repository])
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
        #expect(validate.stdout.contains("ok: 1 environment (production), 1 policy (production)"))
        let show = try CLIRunner.run(["show", "production", "--repo", repository, "--json"])
        #expect(show.status == 0, "\(show.stderr)")
        let hosts = try #require((try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])?["hosts"] as? [[String: Any]])
        #expect(hosts.map { "\($0["name"] ?? "")=\($0["address"] ?? "")" }
                == ["web-01=web-01.prod.example.com", "web-02=10.0.0.12", "db=10.0.0.13"])
        for path in ["README.md", "Environments/production/environment.yaml", "Environments/production/A.txt",
                     "Environments/production/B.txt", "Environments/production/known_hosts", "Policies/production.yaml",
                     "nginx/pinwheel-my-shop.conf", "nginx/my-shop-upstream-placeholder.conf", "nginx/my-shop-location.conf"] {
            #expect(FileManager.default.fileExists(atPath: "\(repository)/\(path)"), "\(path)")
        }
        let readme = try String(contentsOfFile: "\(repository)/README.md", encoding: .utf8)
        #expect(readme.contains("git revert"))
        #expect(readme.contains("pull request"))
        #expect(try String(contentsOfFile: "\(repository)/Environments/production/A.txt", encoding: .utf8)
            .contains("uv pip compile --generate-hashes"))
    }

    @Test func knownHostsStartsWithoutAKeyAndSaysHowToVerifyEach() throws {
        let directory = try TemporaryDirectory()
        let result = try CLIRunner.run(["init", directory.path, "--app", "hello", "--hosts", "10.0.0.11,10.0.0.12"])
        #expect(result.status == 0, "\(result.stderr)")
        let knownHosts = try read(directory, "Environments/production/known_hosts")
        let lines = knownHosts.split(separator: "\n")
        #expect(lines.allSatisfy { $0.hasPrefix("#") }, "no key is trusted on first use")
        for address in ["10.0.0.11", "10.0.0.12"] {
            #expect(knownHosts.contains("ssh-keyscan -t ed25519 \(address) >"))
        }
        #expect(knownHosts.contains("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub"))
    }

    @Test func theAppDefaultsToTheFolderNameAndTheOptionsAreUsed() throws {
        let directory = try TemporaryDirectory()
        let repository = directory.url.appendingPathComponent("billing").path
        let result = try CLIRunner.run(["init", repository, "--env", "staging", "--pin", "flask==3.0.3", "--pin", "werkzeug==3.0.6"])
        #expect(result.status == 0, "\(result.stderr)")
        let validate = try CLIRunner.run(["validate", "--repo", repository, "staging"])
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
        let environment = try String(contentsOfFile: "\(repository)/Environments/staging/environment.yaml", encoding: .utf8)
        #expect(environment.contains("app: billing "))
        #expect(environment.contains("policy: staging "))
        let pins = try String(contentsOfFile: "\(repository)/Environments/staging/B.txt", encoding: .utf8)
        #expect(pins.hasSuffix("flask==3.0.3\nwerkzeug==3.0.6\n"))
        #expect(FileManager.default.fileExists(atPath: "\(repository)/Policies/staging.yaml"))
    }

    /// The settings the environment file shows commented out are valid as they are written: uncommented, the
    /// repository still validates.
    @Test func theCommentedSettingsValidateWhenUncommented() throws {
        let directory = try TemporaryDirectory()
        #expect(try CLIRunner.run(["init", directory.path, "--app", "shop"]).status == 0)
        let path = "Environments/production/environment.yaml"
        var text = try read(directory, path)
        for (commented, uncommented) in [("    # environment:", "    environment:"), ("    # envFile:", "    envFile:"),
                                         ("    # user:", "    user:"), ("    # stopTimeout:", "    stopTimeout:"),
                                         ("# hooks:", "hooks:"), ("#   beforeSwitch:", "  beforeSwitch:"),
                                         ("  B: B.txt                        # or {pins: B.txt, python: /usr/bin/python3.12}: a slot's own interpreter",
                                          "  B: {pins: B.txt, python: /usr/bin/python3.12}")] {
            #expect(text.contains("\n" + commented), "\(commented)")
            text = text.replacingOccurrences(of: "\n" + commented, with: "\n" + uncommented)
        }
        try directory.write(path, text)
        let validate = try CLIRunner.run(["validate", "--repo", directory.path])
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
        let show = try CLIRunner.run(["show", "production", "--repo", directory.path])
        #expect(show.stdout.contains("python3.12"), "\(show.stdout)")
    }

    @Test func itNeverOverwritesAFile() throws {
        let directory = try TemporaryDirectory()
        try directory.write("README.md", "ours\n")
        let result = try CLIRunner.run(["init", directory.path, "--app", "hello"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("already has README.md"), "\(result.stderr)")
        #expect(try read(directory, "README.md") == "ours\n")
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("Environments").path), "nothing else written")

        let again = try TemporaryDirectory()
        #expect(try CLIRunner.run(["init", again.path, "--app", "hello"]).status == 0)
        try again.write("Policies/production.yaml", "rollout: {canary: 2}\n")
        let second = try CLIRunner.run(["init", again.path, "--app", "hello"])
        #expect(second.status == 2)
        #expect(try read(again, "Policies/production.yaml") == "rollout: {canary: 2}\n")
    }

    @Test(arguments: [
        ["--app", "9lives"], ["--app", "../etc"], ["--env", "prod/x"], ["--app", "ok", "--hosts", "web 01"],
        ["--app", "ok", "--hosts", "a.example.com,,b.example.com"], ["--app", "ok", "--hosts", "x=10.0.0.1,x=10.0.0.2"],
        ["--app", "ok", "--pin", "flask>=3"],
    ])
    func badOptionsWriteNothing(_ options: [String]) throws {
        let directory = try TemporaryDirectory()
        let result = try CLIRunner.run(["init", directory.path] + options)
        #expect(result.status != 0, "\(options)")
        #expect((result.stderr + result.stdout).contains("error"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "\(options)")
    }

    /// The nginx pieces work together in a real nginx: the http-level include, the placeholder upstream and the
    /// server block's lines.
    @Test func theNginxPiecesPassNginxTest() async throws {
        let directory = try TemporaryDirectory()
        let result = try CLIRunner.run(["init", directory.path, "--app", "hello-api"])
        #expect(result.status == 0, "\(result.stderr)")
        let placeholder = directory.url.appendingPathComponent("nginx/hello-api-upstream-placeholder.conf").path
        // Where the placeholder is installed on a host, here inside the temporary folder.
        let include = try read(directory, "nginx/pinwheel-hello-api.conf")
        #expect(include.contains("include /etc/nginx/pinwheel/hello-api.conf;"))
        try directory.write("conf.d/pinwheel-hello-api.conf",
                            include.replacingOccurrences(of: "/etc/nginx/pinwheel/hello-api.conf", with: placeholder))
        try directory.write("nginx.conf", """
            pid \(directory.path)/nginx.pid;
            error_log \(directory.path)/error.log;
            events {}
            http {
                access_log off;
                client_body_temp_path \(directory.path)/tmp;
                proxy_temp_path \(directory.path)/tmp;
                fastcgi_temp_path \(directory.path)/tmp;
                uwsgi_temp_path \(directory.path)/tmp;
                scgi_temp_path \(directory.path)/tmp;
                include conf.d/*.conf;
                server {
                    listen 127.0.0.1:1;
                    include \(directory.path)/nginx/hello-api-location.conf;
                }
            }

            """)
        let test = try await Shell.run("/usr/sbin/nginx", ["-t", "-p", directory.path + "/", "-c", "\(directory.path)/nginx.conf",
                                                 "-e", "\(directory.path)/error.log"])
        #expect(test.status == 0, "\(test.standardOutput)\(test.standardError)")
    }
}
