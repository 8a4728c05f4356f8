import Testing
@testable import PinwheelCore

@Suite("Values that reach a host")
struct ValueRulesTests {
    @Test("addresses", arguments: [
        ("10.0.0.1", true), ("127.0.0.11", true), ("local", true), ("web-01.example.com", true), ("::1", true),
        ("fe80::1", true), ("2001:db8::8a2e:370:7334", true), ("localhost", true),
        ("256.0.0.1", false), ("10.0.0", false), ("01.0.0.1", false), ("10.0.0.1;id", false), ("a b", false),
        ("-x.example", false), ("host_name", false), ("", false), ("1.2.3.4.5", false), ("$(id)", false),
    ])
    func addresses(_ text: String, _ valid: Bool) {
        #expect(ValueRules.isAddress(text) == valid)
    }

    @Test("absolute paths", arguments: [
        ("/srv/pinwheel", true), ("/var/tmp/a-b_c.d/e+f@g", true), ("/", true),
        ("srv", false), ("/srv/../etc", false), ("/srv/$HOME", false), ("/srv/a b", false), ("/srv/`id`", false),
        ("/srv/a;b", false), ("/srv/a'b", false), ("/srv/a\"b", false), ("/srv/a\nb", false), ("/srv/a*", false),
    ])
    func paths(_ text: String, _ valid: Bool) {
        #expect(ValueRules.isAbsolutePath(text) == valid)
    }

    @Test func identifiersAndUsers() {
        #expect(ValueRules.isIdentifier("hello"))
        #expect(ValueRules.isIdentifier("hello-web_2"))
        #expect(!ValueRules.isIdentifier("2hello"))
        #expect(!ValueRules.isIdentifier("hello.web"))
        #expect(!ValueRules.isIdentifier(String(repeating: "a", count: 64)))
        #expect(ValueRules.isUserName("deploy"))
        #expect(ValueRules.isUserName("_svc"))
        #expect(!ValueRules.isUserName("Deploy"))
        #expect(!ValueRules.isUserName("de ploy"))
    }

    @Test func urls() {
        #expect(ValueRules.urlProblem("http://127.0.0.1:8300/simple/") == nil)
        #expect(ValueRules.urlProblem("https://pypi.org/simple/") == nil)
        #expect(ValueRules.urlProblem("https://u:p@pypi.org/simple/")?.contains("credentials") == true)
        #expect(ValueRules.urlProblem("https://pypi.org/simple/?a=1&b=2") != nil)
        #expect(ValueRules.urlProblem("file:///srv") != nil)
        #expect(ValueRules.urlProblem("http:///simple") != nil)
    }

    @Test func commands() {
        #expect(ValueRules.commandProblem("supervisorctl -c /etc/s.conf") == nil)
        #expect(ValueRules.commandProblem("nginx -t && echo ok") == nil)
        #expect(ValueRules.commandProblem("a\nb") != nil)
        #expect(ValueRules.commandProblem("a\u{0}b") != nil)
        #expect(ValueRules.commandProblem("   ") != nil)
    }
}
