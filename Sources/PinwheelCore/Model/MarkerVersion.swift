/// A version as markers compare them: PEP 440 release numbers with an optional pre-release (`3.13.0rc1`).
///
/// Markers compare interpreter and platform versions, which are nothing more; a string that is not such a version is
/// compared as text, as PEP 508 says (`packaging` falls back to Python's string operators).
struct MarkerVersion: Comparable, Hashable, Sendable {
    var release: [Int]
    /// `a`, `b` or `rc` with its number; nil for a final release, which sorts after its pre-releases.
    var pre: (kind: Int, number: Int)?

    init?(_ text: String) {
        var body = Substring(text)
        if body.hasPrefix("v") { body = body.dropFirst() }
        var numbers: [Int] = []
        var digits = ""
        var rest = Substring("")
        var index = body.startIndex
        while index < body.endIndex {
            let character = body[index]
            if character.isASCII, character.isNumber {
                digits.append(character)
                guard digits.count <= 9 else { return nil }
            } else if character == "." {
                guard let value = Int(digits) else { return nil }
                numbers.append(value)
                digits = ""
            } else {
                rest = body[index...]
                break
            }
            index = body.index(after: index)
        }
        guard let last = Int(digits), numbers.count < 16 else { return nil }
        numbers.append(last)
        release = numbers
        if rest.isEmpty {
            pre = nil
            return
        }
        let kinds: [(String, Int)] = [("rc", 2), ("a", 0), ("b", 1), ("c", 2)]
        guard let (prefix, kind) = kinds.first(where: { rest.hasPrefix($0.0) }),
              let number = Int(rest.dropFirst(prefix.count)), number >= 0 else { return nil }
        pre = (kind, number)
    }

    /// The release padded with zeros to `count` numbers, as PEP 440 compares `3.12` and `3.12.0` equal.
    func padded(_ count: Int) -> [Int] {
        release + Array(repeating: 0, count: max(0, count - release.count))
    }

    static func == (lhs: MarkerVersion, rhs: MarkerVersion) -> Bool {
        let count = max(lhs.release.count, rhs.release.count)
        return lhs.padded(count) == rhs.padded(count) && lhs.pre?.kind == rhs.pre?.kind && lhs.pre?.number == rhs.pre?.number
    }

    func hash(into hasher: inout Hasher) {
        var trimmed = release
        while trimmed.count > 1, trimmed.last == 0 { trimmed.removeLast() }
        hasher.combine(trimmed)
        hasher.combine(pre?.kind)
        hasher.combine(pre?.number)
    }

    static func < (lhs: MarkerVersion, rhs: MarkerVersion) -> Bool {
        let count = max(lhs.release.count, rhs.release.count)
        let (left, right) = (lhs.padded(count), rhs.padded(count))
        if left != right { return left.lexicographicallyPrecedes(right) }
        switch (lhs.pre, rhs.pre) {
        case (nil, _): return false
        case (_, nil): return true
        case let (l?, r?): return (l.kind, l.number) < (r.kind, r.number)
        }
    }
}
