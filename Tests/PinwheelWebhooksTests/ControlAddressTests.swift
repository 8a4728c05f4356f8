import Testing

@testable import PinwheelWebhooks

@Suite("ControlAddress")
struct ControlAddressTests {
    @Test(arguments: [
        ("127.0.0.1:9420", "127.0.0.1", 9420),
        ("0.0.0.0:80", "0.0.0.0", 80),
        ("localhost:0", "localhost", 0),
        ("[::1]:9420", "::1", 9420),
        ("[::]:65535", "::", 65535),
    ])
    func accepted(text: String, host: String, port: Int) throws {
        let address = try ControlAddress(parsing: text)
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(address.description == text)
    }

    @Test(arguments: [
        ("example.com:9420", ControlAddressError.notAnIPLiteral("example.com:9420")),
        ("127.0.0.1", .missingPort("127.0.0.1")),
        ("127.0.0.1:", .badPort("127.0.0.1:")),
        ("127.0.0.1:65536", .badPort("127.0.0.1:65536")),
        ("127.0.0.1:-1", .badPort("127.0.0.1:-1")),
        ("127.0.0.1:+80", .badPort("127.0.0.1:+80")),
        ("127.0.0.1:http", .badPort("127.0.0.1:http")),
        ("256.0.0.1:80", .notAnIPLiteral("256.0.0.1:80")),
        ("::1:9420", .malformed("::1:9420")),
        ("[::1]", .missingPort("[::1]")),
        ("[::1:9420", .malformed("[::1:9420")),
        ("[localhost]:80", .notAnIPLiteral("[localhost]:80")),
        (":9420", .notAnIPLiteral(":9420")),
        ("", .missingPort("")),
    ])
    func refused(text: String, error: ControlAddressError) {
        #expect(throws: error) { try ControlAddress(parsing: text) }
    }

    @Test func messagesSayWhatIsExpected() {
        #expect("\(ControlAddressError.notAnIPLiteral("example.com:1"))".contains("IP literal"))
    }
}
