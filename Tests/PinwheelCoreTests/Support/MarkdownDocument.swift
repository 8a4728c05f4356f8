import Foundation

/// A Markdown file as the documentation tests read it: its headings' anchors as GitHub makes them, its links, and its
/// fenced code blocks with their info strings.
struct MarkdownDocument {
    struct Link: Equatable {
        var target: String
        var line: Int
    }

    struct Fence: Equatable {
        /// The info string's first word (`yaml`), empty for none.
        var language: String
        /// The info string's other words as `key=value` (`file=Policies/production.yaml`); a word without `=` maps
        /// to itself (`not-config`).
        var attributes: [String: String]
        var text: String
        /// The line of the opening fence, 1-based.
        var line: Int
    }

    var anchors: Set<String> = []
    var links: [Link] = []
    var fences: [Fence] = []

    init(_ text: String) {
        var counts: [String: Int] = [:]
        var open: (language: String, attributes: [String: String], line: Int, body: [String])?
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(line)
            let trimmed = line.drop { $0 == " " }
            let isFence = line.count - trimmed.count <= 3 && trimmed.hasPrefix("```")
            if var current = open {
                if isFence, trimmed.drop(while: { $0 == "`" }).allSatisfy(\.isWhitespace) {
                    fences.append(Fence(language: current.language, attributes: current.attributes,
                                        text: current.body.map { $0 + "\n" }.joined(), line: current.line))
                    open = nil
                } else {
                    current.body.append(line)
                    open = current
                }
                continue
            }
            if isFence {
                let words = trimmed.drop { $0 == "`" }.split(separator: " ").map(String.init)
                var attributes: [String: String] = [:]
                for word in words.dropFirst() {
                    let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
                    attributes[parts[0]] = parts.count == 2 ? parts[1] : parts[0]
                }
                open = (words.first ?? "", attributes, index + 1, [])
                continue
            }
            if line.hasPrefix("#") {
                let heading = line.drop { $0 == "#" }
                if heading.first == " " {
                    let anchor = Self.anchor(String(heading))
                    let seen = counts[anchor, default: 0]
                    anchors.insert(seen == 0 ? anchor : "\(anchor)-\(seen)")
                    counts[anchor] = seen + 1
                }
            }
            links += Self.links(in: line).map { Link(target: $0, line: index + 1) }
        }
    }

    /// GitHub's anchor for a heading: the text as rendered (code spans without their backticks, links as their
    /// text), lowercased, every character but letters, digits, spaces, `-` and `_` removed, spaces made `-`.
    static func anchor(_ heading: String) -> String {
        var text = heading.trimmingCharacters(in: .whitespaces)
        // [text](target) renders as text.
        while let open = text.range(of: "]("), let close = text[open.upperBound...].firstIndex(of: ")"),
              let start = text[..<open.lowerBound].lastIndex(of: "[") {
            text = String(text[..<start]) + text[text.index(after: start)..<open.lowerBound] + text[text.index(after: close)...]
        }
        let kept = text.lowercased().unicodeScalars.filter {
            CharacterSet.alphanumerics.contains($0) || $0 == " " || $0 == "-" || $0 == "_"
        }
        return String(String.UnicodeScalarView(kept)).replacingOccurrences(of: " ", with: "-")
    }

    /// The targets of the inline links and images on a line, outside code spans.
    static func links(in line: String) -> [String] {
        var targets: [String] = []
        var outside = ""
        var inCode = false
        for character in line {
            if character == "`" { inCode.toggle(); outside.append(" "); continue }
            outside.append(inCode ? " " : character)
        }
        var rest = Substring(outside)
        while let open = rest.range(of: "](") {
            let after = rest[open.upperBound...]
            guard let close = after.firstIndex(of: ")") else { break }
            var target = String(after[..<close]).trimmingCharacters(in: .whitespaces)
            if let space = target.firstIndex(of: " ") { target = String(target[..<space]) }  // a title: [a](b "title")
            if !target.isEmpty { targets.append(target) }
            rest = after[close...]
        }
        return targets
    }
}
