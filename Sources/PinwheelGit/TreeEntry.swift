/// One entry of a directory in a commit's tree.
public struct TreeEntry: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case file
        case executable
        case symlink
        case directory
        /// A gitlink (submodule commit).
        case submodule
    }

    public var name: String
    public var kind: Kind
    /// The blob or tree id: equal ids mean equal content.
    public var id: ObjectID
}
