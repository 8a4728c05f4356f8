import Foundation

/// Who approved a change, as far as the commit itself says: the pull or merge request it came from (GitHub's
/// `Merge pull request #12 from …` and squash `… (#12)`, GitLab's `See merge request group/project!34`), who merged
/// it (a merge commit's committer), and the `Reviewed-by:` and `Approved-by:` lines. Pure: reads the message only.
public struct Approvals: Sendable, Hashable, Codable {
    /// `github` or `gitlab` when the message names a request, nil otherwise.
    public var platform: String?
    /// `#12` (GitHub) or `group/project!34` (GitLab).
    public var request: String?
    /// For a merge commit: who merged it (its committer; its author when the committer is GitHub's web-flow).
    public var mergedBy: String?
    /// `Reviewed-by:` and `Approved-by:` values, in message order, without repeats.
    public var approvers: [String]

    public init(platform: String? = nil, request: String? = nil, mergedBy: String? = nil, approvers: [String] = []) {
        self.platform = platform
        self.request = request
        self.mergedBy = mergedBy
        self.approvers = approvers
    }

    /// Whether the commit says anything about approval.
    public var isEmpty: Bool { request == nil && mergedBy == nil && approvers.isEmpty }

    /// Reads a commit message. `committer` and `author` are `Name <email>`; `isMerge` says the commit has two parents
    /// or more.
    public static func parse(message: String, isMerge: Bool, committer: String, author: String) -> Approvals {
        var approvals = Approvals()
        let lines = message.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let summary = lines.first ?? ""
        if let number = githubMerge(summary) {
            approvals.platform = "github"
            approvals.request = "#\(number)"
        } else if let request = lines.lazy.compactMap(gitlabRequest).first {
            approvals.platform = "gitlab"
            approvals.request = request
        } else if let number = githubSquash(summary) {
            approvals.platform = "github"
            approvals.request = "#\(number)"
        }
        if isMerge {
            approvals.mergedBy = committer.lowercased().hasSuffix("<noreply@github.com>") ? author : committer
        }
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if key == "reviewed-by" || key == "approved-by", !value.isEmpty, !approvals.approvers.contains(value) {
                approvals.approvers.append(value)
            }
        }
        return approvals
    }

    /// One line: `pull request #12 (github), merged by …, approved by …, …`.
    public var description: String {
        var parts: [String] = []
        if let request, let platform {
            parts.append(platform == "gitlab" ? "merge request \(request) (gitlab)" : "pull request \(request) (github)")
        }
        if let mergedBy { parts.append("merged by \(mergedBy)") }
        if !approvers.isEmpty { parts.append("approved by " + approvers.joined(separator: ", ")) }
        return parts.joined(separator: ", ")
    }

    /// The number of `Merge pull request #12 from owner/branch`.
    static func githubMerge(_ summary: String) -> Int? {
        let prefix = "Merge pull request #"
        guard summary.hasPrefix(prefix) else { return nil }
        let digits = summary.dropFirst(prefix.count).prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 9 else { return nil }
        let rest = summary.dropFirst(prefix.count + digits.count)
        guard rest.isEmpty || rest.hasPrefix(" from ") else { return nil }
        return Int(digits)
    }

    /// The number of a squash-merged `Change something (#12)`.
    static func githubSquash(_ summary: String) -> Int? {
        guard summary.hasSuffix(")"), let open = summary.range(of: " (#", options: .backwards) else { return nil }
        let digits = summary[open.upperBound..<summary.index(before: summary.endIndex)]
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }

    /// `group/project!34` of `See merge request group/project!34`.
    static func gitlabRequest(_ line: String) -> String? {
        let prefix = "See merge request "
        guard line.hasPrefix(prefix) else { return nil }
        let reference = line.dropFirst(prefix.count)
        guard let bang = reference.lastIndex(of: "!") else { return nil }
        let path = reference[..<bang]
        let number = reference[reference.index(after: bang)...]
        guard !path.isEmpty, !number.isEmpty, number.count <= 9, number.allSatisfy({ $0.isASCII && $0.isNumber }),
              path.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/-_.".contains($0)) }) else { return nil }
        return String(reference)
    }
}
