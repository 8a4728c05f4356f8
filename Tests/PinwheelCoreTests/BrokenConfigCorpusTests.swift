import Foundation
import Testing
@testable import PinwheelCore

/// One mistake in an otherwise valid config, and the diagnostic it must produce.
struct BrokenConfig: CustomTestStringConvertible, Sendable {
    let name: String
    let file: String
    let replace: String
    let with: String
    /// The expected diagnostic: in `expectedFile` (default: the edited file), on `line`, at the column where
    /// `token` starts on that line (column 1 when nil), with `message` somewhere in its text.
    let line: Int
    let token: String?
    let message: String
    var expectedFile: String?

    var testDescription: String { name }

    init(_ name: String, in file: String = Fixture.environmentPath, replace: String, with: String,
         line: Int, at token: String?, _ message: String, reportedIn expectedFile: String? = nil) {
        self.name = name
        self.file = file
        self.replace = replace
        self.with = with
        self.line = line
        self.token = token
        self.message = message
        self.expectedFile = expectedFile
    }
}

private let env = Fixture.environmentPath
private let policy = Fixture.policyPath
private let slotA = Fixture.slotAPath

let brokenConfigs: [BrokenConfig] = [
    // YAML itself
    BrokenConfig("YAML syntax: unclosed flow sequence", replace: "active: A", with: "active: [A", line: 6, at: ":", "YAML syntax error"),
    BrokenConfig("YAML syntax: tab indentation", replace: "  A: A.txt", with: "\tA: A.txt", line: 7, at: nil, "YAML syntax error"),
    BrokenConfig("duplicate key", replace: "python: /usr/bin/python3", with: "python: /usr/bin/python3\npython: /usr/bin/python3.11", line: 3, at: "python", "duplicate key `python`; the first is at line 2"),
    BrokenConfig("duplicate key far from the first", replace: "policy: prod", with: "policy: prod\nactive: B", line: 18, at: "active", "duplicate key `active`; the first is at line 5"),
    BrokenConfig("a key three times: the second is reported", replace: "active: A", with: "active: A\nactive: B\nactive: A", line: 6, at: "active", "duplicate key `active`; the first is at line 5"),
    BrokenConfig("duplicate nested key", replace: "    processes: 2", with: "    processes: 2\n    processes: 3", line: 13, at: "processes", "duplicate key `processes`; the first is at line 12"),
    BrokenConfig("duplicate key in a flow mapping", replace: "port: {A: 8100, B: 8200}", with: "port: {A: 8100, B: 8200, A: 8300}", line: 13, at: "A: 8300", "duplicate key `A`; the first is at line 13"),
    BrokenConfig("duplicate quoted key", replace: "app: hello", with: "app: hello\n\"app\": other", line: 2, at: "\"app\"", "duplicate key `app`; the first is at line 1"),
    BrokenConfig("duplicate key in a policy", in: policy, replace: "  canary: 1", with: "  canary: 1\n  canary: 2", line: 4, at: "canary", "duplicate key `canary`; the first is at line 3"),
    BrokenConfig("empty environment file", replace: Fixture.environment, with: "", line: 1, at: nil, "the file is empty"),
    BrokenConfig("root is a list", replace: Fixture.environment, with: "- app: hello\n", line: 1, at: "-", "must be a mapping"),
    // Keys
    BrokenConfig("misspelt top-level key", replace: "policy: prod", with: "polcy: prod", line: 17, at: "polcy", "unknown key `polcy` in environment.yaml; did you mean `policy`?"),
    BrokenConfig("missing required key", replace: "python: /usr/bin/python3\n", with: "", line: 1, at: "app", "missing the required key `python`"),
    BrokenConfig("misspelt program key", replace: "    processes: 2", with: "    proceses: 2", line: 12, at: "proceses", "did you mean `processes`?"),
    BrokenConfig("misspelt nginx key", replace: "reload: nginx -s reload", with: "reolad: nginx -s reload", line: 25, at: "reolad", "did you mean `reload`?"),
    BrokenConfig("misspelt host key", replace: "    address: 10.0.0.11", with: "    adress: 10.0.0.11", line: 28, at: "adress", "did you mean `address`?"),
    BrokenConfig("program without command", replace: "    command: hello-worker\n", with: "    processes: 1\n", line: 16, at: "processes", "missing the required key `command`"),
    // Program settings
    BrokenConfig("variable name with a dash", replace: "    command: hello-worker", with: "    command: hello-worker\n    environment: {DJANGO-SETTINGS: x}", line: 17, at: "DJANGO-SETTINGS", "which is not a variable name"),
    BrokenConfig("variable Pinwheel sets", replace: "    command: hello-worker", with: "    command: hello-worker\n    environment: {PINWHEEL_SLOT: x}", line: 17, at: "PINWHEEL_SLOT", "starts with `PINWHEEL_`"),
    BrokenConfig("variable value with both quotes", replace: "    command: hello-worker", with: "    command: hello-worker\n    environment:\n      GREETING: 'it''s \"ok\"'", line: 18, at: "'it''s", "holds both"),
    BrokenConfig("variable value that supervisord reads as a comment", replace: "    command: hello-worker", with: "    command: hello-worker\n    environment: {NOTE: \"a ;b\"}", line: 17, at: "\"a ;b\"", "start of a comment"),
    BrokenConfig("variable value with {port} on a worker", replace: "    command: hello-worker", with: "    command: hello-worker\n    environment: {BIND: \"0.0.0.0:{port}\"}", line: 17, at: "\"0.0.0.0", "placeholder `{port}`"),
    BrokenConfig("variable value with an unknown placeholder", replace: "    processes: 2", with: "    processes: 2\n    environment: {BIND: \"{prot}\"}", line: 13, at: "\"{prot}\"", "placeholder `{prot}`"),
    BrokenConfig("envFile is relative", replace: "    command: hello-worker", with: "    command: hello-worker\n    envFile: secrets.env", line: 17, at: "secrets.env", "`envFile` of program `worker` must be an absolute path"),
    BrokenConfig("user with shell syntax", replace: "    command: hello-worker", with: "    command: hello-worker\n    user: \"www;rm\"", line: 17, at: "\"www;rm\"", "`user` of program `worker` must be a user name"),
    BrokenConfig("unknown stop signal", replace: "    command: hello-worker", with: "    command: hello-worker\n    stopSignal: KILL", line: 17, at: "KILL", "`stopSignal` of program `worker`"),
    BrokenConfig("stop timeout too long", replace: "    command: hello-worker", with: "    command: hello-worker\n    stopTimeout: 2h", line: 17, at: "2h", "`stopTimeout` of program `worker` must be between"),
    BrokenConfig("start seconds not a number", replace: "    command: hello-worker", with: "    command: hello-worker\n    startSeconds: soon", line: 17, at: "soon", "`startSeconds` of program `worker` must be a whole number"),
    // Release hooks
    BrokenConfig("unknown hook", replace: "policy: prod", with: "policy: prod\nhooks: {beforeSwtich: migrate}", line: 18, at: "beforeSwtich", "did you mean `beforeSwitch`?"),
    BrokenConfig("hook without a command", replace: "policy: prod", with: "policy: prod\nhooks: {beforeSwitch: {timeout: 5m}}", line: 18, at: "{timeout", "missing the required key `command`"),
    BrokenConfig("hook for a program that does not exist", replace: "policy: prod", with: "policy: prod\nhooks: {afterSwitch: {command: warm, program: wbe}}", line: 18, at: "wbe", "not a program of this environment"),
    BrokenConfig("onRollback on the prepare hook", replace: "policy: prod", with: "policy: prod\nhooks: {prepare: {command: collect, onRollback: true}}", line: 18, at: "onRollback", "unknown key `onRollback`"),
    BrokenConfig("onRollback not a boolean", replace: "policy: prod", with: "policy: prod\nhooks: {beforeSwitch: {command: migrate, onRollback: sometimes}}", line: 18, at: "sometimes", "must be `true` or `false`"),
    BrokenConfig("hook timeout too short", replace: "policy: prod", with: "policy: prod\nhooks: {beforeSwitch: {command: migrate, timeout: 10ms}}", line: 18, at: "10ms", "`timeout` of hook `beforeSwitch` must be between"),
    // Values and types
    BrokenConfig("active names no slot", replace: "active: A", with: "active: C", line: 5, at: "C", "`active` must be one of `A`, `B`"),
    BrokenConfig("app is not a name", replace: "app: hello", with: "app: hello world", line: 1, at: "hello world", "`app` must be a name"),
    BrokenConfig("python is relative", replace: "python: /usr/bin/python3", with: "python: python3", line: 2, at: "python3", "`python` must be the absolute path"),
    BrokenConfig("programs is a word", replace: "programs:\n  web:", with: "programs: web\nunused:\n  web:", line: 9, at: "web", "`programs` must be a mapping"),
    BrokenConfig("processes is not a number", replace: "processes: 2", with: "processes: two", line: 12, at: "two", "`processes` of program `web` must be a whole number from 1 to 64"),
    BrokenConfig("processes is zero", replace: "processes: 2", with: "processes: 0", line: 12, at: "0", "from 1 to 64"),
    BrokenConfig("port out of range", replace: "port: {A: 8100, B: 8200}", with: "port: {A: 8100, B: 70000}", line: 13, at: "70000", "for slot B must be a whole number from 1 to 65535"),
    BrokenConfig("port for one slot only", replace: "port: {A: 8100, B: 8200}", with: "port: {A: 8100}", line: 13, at: "{", "missing the required key `B`"),
    BrokenConfig("health status out of range", replace: "status: 200", with: "status: 700", line: 14, at: "700", "`health.status` of program `web` must be a whole number from 100 to 599"),
    BrokenConfig("health timeout not a duration", replace: "timeout: 2s", with: "timeout: 2 seconds", line: 14, at: "2 seconds", "must be a duration"),
    BrokenConfig("health path not a path", replace: "path: /healthz", with: "path: healthz", line: 14, at: "healthz", "must be a URL path starting with `/`"),
    BrokenConfig("health on a program without port", replace: "    command: hello-worker", with: "    command: hello-worker\n    health: {path: /healthz}", line: 17, at: "{", "has a `health` check but no `port`"),
    BrokenConfig("web program without health", replace: "    health: {path: /healthz, status: 200, timeout: 2s}\n", with: "", line: 13, at: "{", "has a `port` but no `health` check"),
    // Slots
    BrokenConfig("a third slot", replace: "  B: B.txt", with: "  B: B.txt\n  C: C.txt", line: 9, at: "C", "unknown slot `C`"),
    BrokenConfig("slot B missing", replace: "  B: B.txt\n", with: "", line: 7, at: "A", "`slots` is missing slot `B`"),
    BrokenConfig("slot file missing", replace: "  B: B.txt", with: "  B: b-missing.txt", line: 8, at: "b-missing.txt", "does not exist"),
    BrokenConfig("slots share a file", replace: "  B: B.txt", with: "  B: A.txt", line: 8, at: "A.txt", "name the same file"),
    BrokenConfig("slot file outside the folder", replace: "  B: B.txt", with: "  B: ../B.txt", line: 8, at: "../B.txt", "must name a requirements file beside environment.yaml"),
    // Commands
    BrokenConfig("unknown placeholder", replace: "--port {port}", with: "--port {prot}", line: 11, at: "hello-service", "unknown placeholder `{prot}`; did you mean `port`?"),
    BrokenConfig("port placeholder without port", replace: "command: hello-worker", with: "command: hello-worker --port {port}", line: 16, at: "hello-worker", "uses `{port}` but the program has no `port`"),
    BrokenConfig("command with a newline", replace: "command: hello-worker", with: "command: \"hello-worker\\nrm -rf /\"", line: 16, at: "\"hello-worker", "must be one line without control characters"),
    BrokenConfig("supervisorctl with a control character", replace: "ctl: supervisorctl}", with: "ctl: \"supervisorctl\\u0007\"}", line: 24, at: "\"supervisorctl", "`supervisor.ctl` in `defaults` must be one line"),
    // Source
    BrokenConfig("index and wheelhouse both", replace: "  index: http://127.0.0.1:8300/simple/", with: "  index: http://127.0.0.1:8300/simple/\n  wheelhouse: /srv/wheels", line: 4, at: "index", "sets both `index` and `wheelhouse`"),
    BrokenConfig("index with credentials", replace: "http://127.0.0.1:8300/simple/", with: "https://deploy:s3cret@pypi.example.com/simple/", line: 4, at: "https", "must not carry credentials"),
    BrokenConfig("index not http", replace: "http://127.0.0.1:8300/simple/", with: "ftp://127.0.0.1/simple/", line: 4, at: "ftp", "must be an http:// or https:// URL"),
    BrokenConfig("index with shell syntax", replace: "http://127.0.0.1:8300/simple/", with: "http://127.0.0.1:8300/simple/$(reboot)", line: 4, at: "http", "may only contain letters"),
    BrokenConfig("ship from a relative wheel folder", replace: "  index: http://127.0.0.1:8300/simple/", with: "  ship: {wheels: relative/folder}", line: 4, at: "relative", "`source.ship.wheels` must be an absolute path on the controller's machine"),
    BrokenConfig("ship from nowhere", replace: "  index: http://127.0.0.1:8300/simple/", with: "  ship: {}", line: 4, at: "{}", "`source.ship` must set `index`"),
    BrokenConfig("wheelhouse relative", replace: "  index: http://127.0.0.1:8300/simple/", with: "  wheelhouse: wheels", line: 4, at: "wheels", "`source.wheelhouse` must be an absolute path"),
    // Hosts and host settings
    BrokenConfig("hosts empty", replace: "hosts:\n  - name: web-01\n    address: 10.0.0.11\n  - name: web-02\n    address: 10.0.0.12\n    port: 2222\n", with: "hosts: []\n", line: 26, at: "[]", "`hosts` is empty"),
    BrokenConfig("duplicate host name", replace: "  - name: web-02", with: "  - name: web-01", line: 29, at: "name", "host name `web-01` is used twice"),
    BrokenConfig("two hosts on one endpoint", replace: "    address: 10.0.0.12\n    port: 2222", with: "    address: 10.0.0.11", line: 29, at: "name", "are the same machine (10.0.0.11:22)"),
    BrokenConfig("address not an address", replace: "address: 10.0.0.11", with: "address: 10.0.0.300", line: 28, at: "10.0.0.300", "must be an IP address, a DNS name or `local`"),
    BrokenConfig("address with shell syntax", replace: "address: 10.0.0.11", with: "address: \"10.0.0.11; rm -rf /\"", line: 28, at: "\"10.0.0.11", "must be an IP address"),
    BrokenConfig("host name with shell syntax", replace: "name: web-01", with: "name: web-$(reboot)", line: 27, at: "web-$(reboot)", "host name `web-$(reboot)` may only contain"),
    BrokenConfig("user not a user name", replace: "user: deploy", with: "user: \"deploy;id\"", line: 19, at: "\"deploy;id\"", "`user` in `defaults` must be a user name"),
    BrokenConfig("no user anywhere", replace: "  user: deploy\n", with: "", line: 26, at: "name: web-01", "host `web-01` has no `user`"),
    BrokenConfig("ssh port out of range", replace: "    port: 2222", with: "    port: 0", line: 31, at: "0", "`port` of host `web-02` must be a whole number from 1 to 65535"),
    BrokenConfig("root relative", replace: "root: /srv/pinwheel", with: "root: srv/pinwheel", line: 23, at: "srv/pinwheel", "`root` in `defaults` must be an absolute path"),
    BrokenConfig("root escapes with ..", replace: "root: /srv/pinwheel", with: "root: /srv/../etc", line: 23, at: "/srv/../etc", "must be an absolute path"),
    BrokenConfig("root with a space", replace: "root: /srv/pinwheel", with: "root: /srv/pin wheel", line: 23, at: "/srv/pin wheel", "must be an absolute path"),
    BrokenConfig("identity with shell syntax", replace: "identity: ~/.ssh/id_ed25519", with: "identity: ~/.ssh/`id`", line: 21, at: "~/.ssh/`id`", "`identity` in `defaults` must be the path of a private key file"),
    BrokenConfig("known-hosts file missing", replace: "knownHosts: known_hosts", with: "knownHosts: knwon_hosts", line: 22, at: "knwon_hosts", "the known-hosts file `knwon_hosts` does not exist"),
    BrokenConfig("no known-hosts anywhere", replace: "  knownHosts: known_hosts\n", with: "", line: 26, at: "name: web-01", "has no `knownHosts` file; host keys are always checked"),
    BrokenConfig("nginx check not a URL", replace: "check: http://127.0.0.1/healthz", with: "check: /healthz", line: 25, at: "/healthz", "`nginx.check` in `defaults` must be an http:// or https:// URL"),
    BrokenConfig("supervisor include relative", replace: "include: /etc/supervisor/conf.d", with: "include: conf.d", line: 24, at: "conf.d", "`supervisor.include` in `defaults` must be an absolute path"),
    BrokenConfig("process ports collide", replace: "port: {A: 8100, B: 8200}", with: "port: {A: 8100, B: 8101}", line: 27, at: "name: web-01", "would both listen on port 8101"),
    BrokenConfig("host override collides", replace: "    port: 2222", with: "    port: 2222\n    programs: {web: {port: {A: 9000, B: 9001}}}", line: 32, at: "{web", "would both listen on port 9001"),
    BrokenConfig("override of an unknown program", replace: "    port: 2222", with: "    port: 2222\n    programs: {wbe: {port: {A: 9000, B: 9100}}}", line: 32, at: "wbe", "overrides program `wbe`, which the environment does not define; did you mean `web`?"),
    BrokenConfig("program name with shell syntax", replace: "  worker:", with: "  work;er:", line: 15, at: "work;er", "program name `work;er` must be a name"),
    // Policy reference
    BrokenConfig("policy does not exist", replace: "policy: prod", with: "policy: prd", line: 17, at: "prd", "policy `prd` does not exist: there is no Policies/prd.yaml; did you mean `prod`?"),
    BrokenConfig("policy name is a path", replace: "policy: prod", with: "policy: ../prod", line: 17, at: "../prod", "`policy` must be a name"),
    // Policies
    BrokenConfig("batch of zero", in: policy, replace: "batch: 25%", with: "batch: 0", line: 4, at: "0", "`rollout.batch` must be a number of hosts"),
    BrokenConfig("batch over 100%", in: policy, replace: "batch: 25%", with: "batch: 150%", line: 4, at: "150%", "a percentage from 1% to 100%"),
    BrokenConfig("pause not a duration", in: policy, replace: "pause: 10s", with: "pause: ten", line: 5, at: "ten", "`rollout.pause` must be a duration"),
    BrokenConfig("onFailure misspelt", in: policy, replace: "onFailure: rollback", with: "onFailure: rollbak", line: 7, at: "rollbak", "did you mean `rollback`?"),
    BrokenConfig("prepare negative", in: policy, replace: "prepare: 20", with: "prepare: -1", line: 2, at: "-1", "`rollout.prepare` must be a whole number from 1 to 1000"),
    BrokenConfig("drift unknown", in: policy, replace: "drift: heal", with: "drift: fix", line: 9, at: "fix", "`drift` must be one of `report`, `heal`"),
    BrokenConfig("policy key misspelt", in: policy, replace: "canary: 1", with: "canry: 1", line: 3, at: "canry", "did you mean `canary`?"),
    // Deploy windows
    BrokenConfig("window zone unknown", in: policy, replace: "drift: heal", with: "drift: heal\nwindows:\n  - deny: {days: [fri, sat], from: \"16:00\", to: \"08:00\", zone: Europe/Berlln}", line: 11, at: "Europe/Berlln", "`zone` of `windows[…].deny` must be an IANA time zone"),
    BrokenConfig("window day unknown", in: policy, replace: "drift: heal", with: "drift: heal\nwindows:\n  - deny: {days: [fri, sa], from: \"16:00\", to: \"08:00\", zone: Europe/Berlin}", line: 11, at: "sa]", "a day of `windows[…].deny` must be one of `mon`"),
    BrokenConfig("window time not a time", in: policy, replace: "drift: heal", with: "drift: heal\nwindows:\n  - deny: {days: [fri, sat], from: \"16:00\", to: \"8am\", zone: Europe/Berlin}", line: 11, at: "\"8am", "`to` of `windows[…].deny` must be a time of day `HH:MM`"),
    BrokenConfig("window hour out of range", in: policy, replace: "drift: heal", with: "drift: heal\nwindows:\n  - deny: {days: [fri, sat], from: \"24:30\", to: \"08:00\", zone: Europe/Berlin}", line: 11, at: "\"24:30", "`from` of `windows[…].deny` must be a time of day"),
    BrokenConfig("window neither allow nor deny", in: policy, replace: "drift: heal", with: "drift: heal\nwindows:\n  - permit: {days: [fri, sat], from: \"16:00\", to: \"08:00\", zone: Europe/Berlin}", line: 11, at: "permit", "unknown key `permit` in `windows[0]`"),
    BrokenConfig("window without zone", in: policy, replace: "drift: heal", with: "drift: heal\nwindows:\n  - deny: {days: [fri, sat], from: \"16:00\", to: \"08:00\"}", line: 11, at: "{days", "missing the required key `zone`"),
    BrokenConfig("rollbacks misspelt", in: policy, replace: "drift: heal", with: "drift: heal\nrollbacks: window", line: 10, at: "window", "`rollbacks` must be one of `allowed`, `windows`"),
    BrokenConfig("verify signatures misspelt", in: policy, replace: "drift: heal", with: "drift: heal\nverify: {signatures: requried}", line: 10, at: "requried}", "`verify.signatures` must be one of `required`, `optional`"),
    BrokenConfig("verify without signatures", in: policy, replace: "drift: heal", with: "drift: heal\nverify: {}", line: 10, at: "{", "`verify` is missing the required key `signatures`"),
    BrokenConfig("verify key unknown", in: policy, replace: "drift: heal", with: "drift: heal\nverify: {signature: required}", line: 10, at: "signature:", "did you mean `signatures`?"),
    BrokenConfig("promotion without soak", in: policy, replace: "drift: heal", with: "drift: heal\npromotion: {from: staging}", line: 10, at: "{", "`promotion` is missing the required key `soak`"),
    BrokenConfig("promotion soak not a duration", in: policy, replace: "drift: heal", with: "drift: heal\npromotion: {from: staging, soak: half an hour}", line: 10, at: "half", "`promotion.soak` must be a duration"),
    BrokenConfig("promotion from a path", in: policy, replace: "drift: heal", with: "drift: heal\npromotion: {from: ../staging, soak: 30m}", line: 10, at: "../", "`promotion.from` must name an environment"),
    BrokenConfig("freeze without reason", in: policy, replace: "drift: heal", with: "drift: heal\nfreeze: {}", line: 10, at: "{", "`freeze` is missing the required key `reason`"),
    BrokenConfig("health retries zero", in: policy, replace: "retries: 10", with: "retries: 0", line: 8, at: "0", "`health.retries` must be a whole number from 1 to 1000"),
    // Slot files
    BrokenConfig("a range instead of a pin", in: slotA, replace: "click==8.1.7", with: "click>=8.0", line: 3, at: "click", "`click>=8.0` is a range, not an exact pin"),
    BrokenConfig("a wildcard pin", in: slotA, replace: "click==8.1.7", with: "click==8.*", line: 3, at: "click", "is a range, not an exact pin"),
    BrokenConfig("an unpinned name", in: slotA, replace: "click==8.1.7", with: "click", line: 3, at: "click", "`click` is not pinned; write an exact version: `click==VERSION`"),
    BrokenConfig("an editable install", in: slotA, replace: "click==8.1.7", with: "-e ./click", line: 3, at: "-e", "editable installs (`-e`) are not allowed"),
    BrokenConfig("an include", in: slotA, replace: "click==8.1.7", with: "-r other.txt", line: 3, at: "-r", "includes another file"),
    BrokenConfig("an index option", in: slotA, replace: "click==8.1.7", with: "--index-url https://example.com/simple/", line: 3, at: "--index-url", "set where packages come from in `source:`"),
    BrokenConfig("a URL requirement", in: slotA, replace: "click==8.1.7", with: "click @ https://example.com/click-8.1.7.tar.gz", line: 3, at: "click", "installs from a URL"),
    BrokenConfig("a package pinned twice", in: slotA, replace: "click==8.1.7", with: "click==8.1.7\nClick==8.1.6", line: 4, at: "Click", "`Click` is pinned twice; it is already pinned on line 3"),
    BrokenConfig("an invalid version", in: slotA, replace: "click==8.1.7", with: "click==8.1.7-final!", line: 3, at: "8.1.7", "`8.1.7-final!` is not a valid version of `click`"),
    BrokenConfig("an invalid name", in: slotA, replace: "click==8.1.7", with: "cl$ick==8.1.7", line: 3, at: "cl$ick", "`cl$ick` is not a valid package name"),
    BrokenConfig("a short hash", in: slotA, replace: "click==8.1.7", with: "click==8.1.7 --hash=sha256:abc", line: 3, at: "--hash", "is not a valid hash"),
    BrokenConfig("an option after a pin", in: slotA, replace: "click==8.1.7", with: "click==8.1.7 --no-binary=:all:", line: 3, at: "--no-binary", "is not allowed after a pin"),
    BrokenConfig("extras", in: slotA, replace: "click==8.1.7", with: "click[colors]==8.1.7", line: 3, at: "click", "asks for extras"),
    BrokenConfig("a marker with shell syntax", in: slotA, replace: "click==8.1.7", with: "click==8.1.7 ; python_version > \"3\" $(id)", line: 3, at: "$(id)", "the environment marker"),
    BrokenConfig("a marker variable misspelt", in: slotA, replace: "click==8.1.7", with: "click==8.1.7 ; python_versoin < '3.12'", line: 3, at: "python_versoin", "`python_versoin` is not a marker variable"),
    BrokenConfig("a package pinned twice under markers that overlap", in: slotA, replace: "click==8.1.7",
                 with: "click==8.1.7 ; python_version >= '3.8'\nclick==8.1.8 ; python_version >= '3.10'", line: 4, at: nil, "pinned twice for the same environments"),
    BrokenConfig("hashes on some pins only", in: slotA, replace: "click==8.1.7", with: "click==8.1.7 \\\n    --hash=sha256:\(String(repeating: "a", count: 64))", line: 2, at: "hello-service", "`hello-service` has no `--hash` while other pins have one"),
    BrokenConfig("an empty slot file", in: slotA, replace: Fixture.slotA, with: "# nothing here\n", line: 1, at: nil, "the slot file pins no package"),
]

@Suite("Broken configurations")
struct BrokenConfigCorpusTests {
    @Test("each broken config gives its diagnostic", arguments: brokenConfigs)
    func brokenConfig(_ broken: BrokenConfig) throws {
        var files = Fixture.files
        let original = try #require(files[broken.file])
        #expect(original.contains(broken.replace), "the fixture has no `\(broken.replace)` to replace")
        let edited = original.replacingOccurrences(of: broken.replace, with: broken.with)
        files[broken.file] = edited

        let report = try Fixture.load(files)
        #expect(report.hasErrors)
        let expectedFile = broken.expectedFile ?? broken.file
        let lines = edited.components(separatedBy: "\n")
        var column = 1
        if let token = broken.token {
            let line = try #require(broken.line <= lines.count ? lines[broken.line - 1] : nil, "no line \(broken.line)")
            let range = try #require(line.range(of: token), "line \(broken.line) `\(line)` has no `\(token)`")
            column = line.unicodeScalars.distance(from: line.unicodeScalars.startIndex, to: range.lowerBound.samePosition(in: line.unicodeScalars)!) + 1
        }
        let expected = "\(expectedFile):\(broken.line):\(column): error: "
        let match = report.diagnostics.first { $0.description.hasPrefix(expected) && $0.description.contains(broken.message) }
        #expect(match != nil, "expected `\(expected)…\(broken.message)…`, got:\n\(report.diagnostics.map(\.description).joined(separator: "\n"))")
    }

    @Test func theCorpusHasAtLeastFortyCases() {
        #expect(brokenConfigs.count >= 40)
        #expect(Set(brokenConfigs.map(\.name)).count == brokenConfigs.count)
    }
}
