import Foundation
import Testing
@testable import PinwheelCore

/// PromQL templates: placeholders only inside double-quoted label values, and what fills them escaped, so no value
/// can change the query's shape.
@Suite("PromQL query templates")
struct QueryTemplateTests {
    static let values = QueryTemplate.Values(environment: "production", slot: .b, hosts: ["web-01", "web-02.example"],
                                             commit: "abc123", version: "1.2.0")

    @Test func placeholdersAreFilledIn() throws {
        let template = try QueryTemplate(#"sum(rate(http_requests_total{env="{{environment}}",slot="{{slot}}",host=~"{{hosts}}",status=~"5.."}[1m]))"#)
        #expect(template.placeholders == [.environment, .slot, .hosts])
        #expect(template.render(Self.values)
            == #"sum(rate(http_requests_total{env="production",slot="B",host=~"web-01|web-02\\.example",status=~"5.."}[1m]))"#)
    }

    @Test func valuesCannotBreakOutOfTheirString() throws {
        let template = try QueryTemplate(#"up{version="{{version}}"}"#)
        var hostile = Self.values
        hostile.version = #"1"} or vector(1) or up{a="\"#
        let rendered = template.render(hostile)
        #expect(rendered == #"up{version="1\"} or vector(1) or up{a=\"\\"}"#)
        hostile.version = "1\n2\u{7}"
        #expect(template.render(hostile) == #"up{version="1\n2\x07"}"#)
    }

    @Test func hostsAreAnExactAlternation() throws {
        let template = try QueryTemplate(#"up{host=~"{{hosts}}"}"#)
        var values = Self.values
        values.hosts = ["a.b", "c|d", "e*"]
        #expect(template.render(values) == #"up{host=~"a\\.b|c\\|d|e\\*"}"#)
        values.hosts = []
        #expect(template.render(values) == #"up{host=~"$^"}"#, "no host switched matches no host, not every host")
    }

    @Test(arguments: [
        (#"up{slot={{slot}}}"#, QueryTemplate.Problem.outsideString(.slot)),
        (#"up{slot='{{slot}}'}"#, .outsideString(.slot)),
        ("{{slot}}", .outsideString(.slot)),
        (#"up{slot="{{region}}"}"#, .unknownPlaceholder("region")),
        (#"up{slot="{{slot"}"#, .unterminatedPlaceholder),
        ("  \n ", .empty),
        ("up\u{1b}[31m", .controlCharacter),
        (String(repeating: "a", count: QueryTemplate.maximumLength + 1), .tooLong(QueryTemplate.maximumLength + 1)),
    ])
    func badTemplatesAreRefused(_ text: String, _ problem: QueryTemplate.Problem) {
        #expect(throws: problem) { try QueryTemplate(text) }
    }

    @Test func quotesInsideStringsAndCommentsAreFollowed() throws {
        // An escaped quote does not end the string; a `#` comment's quote opens nothing.
        let template = try QueryTemplate("up{a=\"x\\\"y\",slot=\"{{slot}}\"} # it's fine\n+ on() vector(0)")
        #expect(template.render(Self.values).contains(#"slot="B""#))
        #expect(throws: QueryTemplate.Problem.outsideString(.slot)) { try QueryTemplate("up # \"\n{{slot}}") }
    }

    @Test func everyProblemSaysWhatToDo() {
        for problem in [QueryTemplate.Problem.outsideString(.hosts), .unknownPlaceholder("x"), .empty, .unterminatedPlaceholder] {
            #expect(!problem.description.isEmpty)
        }
        #expect(QueryTemplate.Problem.outsideString(.hosts).description.contains(#"host=~"{{hosts}}""#))
    }

    @Test func templatesSurviveArbitraryText() {
        // No `#` here: a comment's text is left as written, placeholders included.
        let seed = Array(#"sum(rate(x{env="{{environment}}",host=~"{{hosts}}",slot="{{slot}}"}[1m]))"#)
        var mutation = TextMutation(seed: 42, alphabet: Array("{}\"'`\\\n slot=~|.$^"), edits: 1...6)
        for _ in 0..<2000 {
            if let template = try? QueryTemplate(mutation.mutate(seed)) {
                #expect(!template.render(Self.values).contains("{{"), "every placeholder a template accepts is filled")
            }
        }
    }
}
