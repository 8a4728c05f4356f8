import Yams

/// Finds where a duplicate key of a YAML mapping is.
///
/// Yams refuses a mapping with a key twice but only says where the *first* occurrence is; the mistake a person
/// wants pointed at is the second. So the first occurrence is renamed in a copy of the text (a marker put in front
/// of it), the copy is composed again, and the mapping holding the renamed key is searched for the key: the entry
/// there is the duplicate. Other duplicates met on the way are renamed too, a bounded number of times.
enum DuplicateKey {
    private static let marker = "pinwheelduplicatekey"

    /// The line and column (1-based) of the second occurrence of `key`, whose first occurrence is at `firstMark`.
    static func locate(_ key: String, firstAt firstMark: Mark?, in text: String) -> (line: Int, column: Int)? {
        guard let firstMark else { return nil }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
        /// Markers inserted: where (in the text as it was then) and how long, to correct the columns found.
        var inserted: [(line: Int, column: Int, length: Int)] = []
        func original(_ line: Int, _ column: Int) -> (line: Int, column: Int) {
            let shift = inserted.filter { $0.line == line && $0.column < column }.reduce(0) { $0 + $1.length }
            return (line, column - shift)
        }
        let firstMarker = "\(marker)0"
        guard insert(firstMarker, atLine: firstMark.line, column: firstMark.column, into: &lines) else { return nil }
        inserted.append((firstMark.line, firstMark.column, firstMarker.count))
        for round in 1...16 {
            let copy = lines.map { String(String.UnicodeScalarView($0)) }.joined(separator: "\n")
            do {
                guard let root = try Yams.compose(yaml: copy),
                      let found = search(root, renamed: firstMarker + key, key: key) else { return nil }
                return original(found.line, found.column)
            } catch let YamlError.duplicatedKeysInMapping(duplicates, context) {
                let mark = context.mark
                // Keys of the same mapping are checked again: when `key` is still there twice (it was there three
                // times), the first of those is the one to report.
                if duplicates.first == key { return original(max(mark.line, 1), max(mark.column, 1)) }
                let next = "\(marker)\(round)"
                guard insert(next, atLine: mark.line, column: mark.column, into: &lines) else { return nil }
                inserted.append((mark.line, mark.column, next.count))
            } catch {
                return nil
            }
        }
        return nil
    }

    /// Puts `text` in front of the key starting at `line`:`column` (inside its quotes when it is quoted).
    private static func insert(_ text: String, atLine line: Int, column: Int, into lines: inout [[Unicode.Scalar]]) -> Bool {
        guard line >= 1, line <= lines.count, column >= 1 else { return false }
        var index = column - 1
        guard index < lines[line - 1].count else { return false }
        let first = lines[line - 1][index]
        if first == "\"" || first == "'" { index += 1 }
        lines[line - 1].insert(contentsOf: Array(text.unicodeScalars), at: index)
        return true
    }

    /// The position of `key` in the mapping that also holds `renamed`.
    private static func search(_ node: Node, renamed: String, key: String) -> (line: Int, column: Int)? {
        switch node {
        case .mapping(let mapping):
            if mapping.keys.contains(where: { $0.scalar?.string == renamed }),
               let duplicate = mapping.keys.first(where: { $0.scalar?.string == key }), let mark = duplicate.mark {
                return (max(mark.line, 1), max(mark.column, 1))
            }
            for (entryKey, value) in mapping {
                if let found = search(entryKey, renamed: renamed, key: key) ?? search(value, renamed: renamed, key: key) {
                    return found
                }
            }
            return nil
        case .sequence(let sequence):
            for item in sequence {
                if let found = search(item, renamed: renamed, key: key) { return found }
            }
            return nil
        default:
            return nil
        }
    }
}
