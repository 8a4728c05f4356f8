import CGit2

/// What the controller needs to know about a commit, detached from libgit2.
public struct CommitInfo: Hashable, Sendable {
    public var id: ObjectID
    public var parents: [ObjectID]
    public var author: Signature
    public var committer: Signature
    /// The first paragraph of the message, on one line.
    public var summary: String
    /// The full raw message.
    public var message: String
    /// `Key: value` trailers at the end of the message (e.g. `Signed-off-by`), in order.
    public var trailers: [Trailer]

    public struct Trailer: Hashable, Sendable {
        public var key: String
        public var value: String
    }

    init(_ commit: OpaquePointer) {
        id = ObjectID(git_commit_id(commit))
        let count = git_commit_parentcount(commit)
        parents = (0..<count).map { ObjectID(git_commit_parent_id(commit, $0)) }
        author = Signature(git_commit_author(commit))
        committer = Signature(git_commit_committer(commit))
        message = git_commit_message(commit).map { String(cString: $0) } ?? ""
        summary = git_commit_summary(commit).map { String(cString: $0) } ?? ""
        var array = git_message_trailer_array()
        var trailers: [Trailer] = []
        if git_message_trailers(&array, message) == 0 {
            for i in 0..<array.count {
                let t = array.trailers[i]
                trailers.append(Trailer(key: String(cString: t.key), value: String(cString: t.value)))
            }
            git_message_trailer_array_free(&array)
        }
        self.trailers = trailers
    }
}
