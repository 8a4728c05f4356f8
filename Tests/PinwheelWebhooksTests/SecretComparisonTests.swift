import Testing

@testable import PinwheelWebhooks

@Suite struct SecretComparisonTests {
    @Test func secretsAndTokensCompareByContent() {
        #expect(SecretBytes("s3cret") == SecretBytes("s3cret"))
        #expect(SecretBytes("s3cret") != SecretBytes("s3creT"))
        #expect(SecretBytes("s3cre") != SecretBytes("s3cret"))
        #expect(SecretBytes([]) != SecretBytes("s3cret"))
        #expect(SecretBytes("s3cret").matches("s3cret"))
        #expect(!SecretBytes("s3cret").matches("s3cret "))
        #expect(!SecretBytes("s3cret").matches(""))
    }

    @Test func hexDecoding() {
        #expect(Hex.decode("00ff10Ab") == [0x00, 0xff, 0x10, 0xab])
        #expect(Hex.decode("") == [])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
        #expect(Hex.decode("0g") == nil)
    }
}
