import Foundation

/// A PEP 503 project page (`<index>/<project>/`): the files it links, each with the SHA-256 its URL fragment
/// (`#sha256=…`) names. Files without a SHA-256 are left out: nothing could check them.
public enum SimpleIndexPage {
    /// The candidates linked from `html`, their URLs resolved against `pageURL` (the page's own address, ending in `/`).
    /// Bounded: at most `limit` links are read.
    public static func candidates(html: String, pageURL: String, limit: Int = 20_000) -> [ArtifactChoice.Candidate] {
        var result: [ArtifactChoice.Candidate] = []
        var rest = Substring(html)
        while result.count < limit, let open = rest.range(of: "<a ", options: .caseInsensitive) {
            rest = rest[open.upperBound...]
            guard let close = rest.firstIndex(of: ">") else { break }
            let attributes = rest[..<close]
            rest = rest[rest.index(after: close)...]
            guard let href = attribute("href", in: attributes) else { continue }
            let unescaped = unescape(href)
            guard let hash = unescaped.range(of: "#sha256=") else { continue }
            let digest = String(unescaped[hash.upperBound...]).lowercased()
            let url = String(unescaped[..<hash.lowerBound])
            guard ShippedArtifact.isSHA256(digest) else { continue }
            let path = url.split(separator: "?").first.map(String.init) ?? url
            guard let name = path.split(separator: "/").last.map(String.init).map(percentDecoded),
                  ShippedArtifact.isSafeName(name) else { continue }
            result.append(.init(name: name, sha256: digest, location: resolve(url, against: pageURL)))
        }
        return result
    }

    /// The page of `project` on the index at `indexURL` (a PEP 503 root ending in `/` or not).
    public static func pageURL(index indexURL: String, project: String) -> String {
        (indexURL.hasSuffix("/") ? indexURL : indexURL + "/") + Pin.normalize(project) + "/"
    }

    static func attribute(_ name: String, in attributes: Substring) -> String? {
        var rest = attributes
        while let found = rest.range(of: name + "=", options: .caseInsensitive) {
            let before = found.lowerBound == attributes.startIndex ? " " : attributes[attributes.index(before: found.lowerBound)]
            rest = rest[found.upperBound...]
            guard before == " " || before == "\t" || before == "\n" else { continue }
            guard let quote = rest.first, quote == "\"" || quote == "'" else {
                return String(rest.prefix { !$0.isWhitespace })
            }
            let value = rest.dropFirst()
            guard let end = value.firstIndex(of: quote) else { return nil }
            return String(value[..<end])
        }
        return nil
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&#43;", with: "+")
            .replacingOccurrences(of: "&#x2B;", with: "+")
    }

    static func percentDecoded(_ text: String) -> String {
        text.removingPercentEncoding ?? text
    }

    /// `url` resolved against `base`: absolute URLs as they are, `/path` against the base's origin, anything else
    /// against the base's folder (with `../` segments taken away).
    static func resolve(_ url: String, against base: String) -> String {
        if url.contains("://") { return url }
        guard let scheme = base.range(of: "://") else { return url }
        let afterScheme = base[scheme.upperBound...]
        let originEnd = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
        let origin = String(base[..<originEnd])
        if url.hasPrefix("/") { return origin + url }
        var segments = base[originEnd...].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if !segments.isEmpty { segments.removeLast() }  // the page's own name (empty for a folder URL)
        for part in url.split(separator: "/", omittingEmptySubsequences: false) {
            switch part {
            case "..": if segments.count > 1 { segments.removeLast() }
            case ".": continue
            default: segments.append(String(part))
            }
        }
        return origin + segments.joined(separator: "/")
    }
}
