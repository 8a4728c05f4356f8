import Foundation

extension WebhookVerifier {
    /// The pushed branch named by a push body, or nil.
    ///
    /// GitHub, GitLab and Gitea send JSON with `ref: "refs/heads/<branch>"`; GitHub sends
    /// `payload=<url-encoded JSON>` when the webhook's content type is form-encoded. The generic hook
    /// may also say `ref: "<branch>"`. A tag (`refs/tags/...`), another kind of ref, or a body that is
    /// not such JSON gives nil: the push still triggers, the controller just cannot narrow it down.
    static func pushedBranch(in body: [UInt8]) -> String? {
        guard let ref = pushedRef(in: body) else { return nil }
        if ref.hasPrefix("refs/heads/") {
            let branch = String(ref.dropFirst("refs/heads/".count))
            return branch.isEmpty ? nil : branch
        }
        if ref.hasPrefix("refs/") || ref.isEmpty {
            return nil
        }
        return ref
    }

    /// The `ref` field of the body's JSON object, or nil.
    static func pushedRef(in body: [UInt8]) -> String? {
        if let ref = ref(inJSON: Data(body)) {
            return ref
        }
        let formPrefix = Array("payload=".utf8)
        guard body.starts(with: formPrefix),
            let encoded = String(bytes: body.dropFirst(formPrefix.count), encoding: .utf8)
        else { return nil }
        let field = encoded.split(separator: "&", maxSplits: 1).first.map(String.init) ?? encoded
        guard let decoded = field.replacingOccurrences(of: "+", with: " ").removingPercentEncoding else { return nil }
        return ref(inJSON: Data(decoded.utf8))
    }

    private static func ref(inJSON data: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["ref"] as? String
    }
}
