import CGit2
import Foundation

/// One file that differs between two commits.
struct TreeChange {
    var path: String
    /// The blob before, nil when the file was added.
    var oldID: ObjectID?
    /// The blob after, nil when the file was removed.
    var newID: ObjectID?
    var newMode: git_filemode_t
}

extension Repository {
    // MARK: helpers (lock held)

    /// The files that differ between two commits.
    func treeChanges(from: ObjectID, to: ObjectID) throws(GitError) -> [TreeChange] {
        let old = try lookupTree(ofCommit: from)
        defer { git_tree_free(old) }
        let new = try lookupTree(ofCommit: to)
        defer { git_tree_free(new) }
        var diff: OpaquePointer?
        try check(git_diff_tree_to_tree(&diff, handle, old, new, nil), "compare \(from.short) with \(to.short)")
        defer { git_diff_free(diff) }
        var changes: [TreeChange] = []
        for i in 0..<git_diff_num_deltas(diff) {
            guard let delta = git_diff_get_delta(diff, i)?.pointee else { continue }
            let oldFile = delta.old_file
            let newFile = delta.new_file
            let present = { (file: git_diff_file) in file.flags & GIT_DIFF_FLAG_EXISTS.rawValue != 0 }
            guard let rawPath = (newFile.path ?? oldFile.path) else { continue }
            var oldID = oldFile.id
            var newID = newFile.id
            changes.append(TreeChange(
                path: String(cString: rawPath),
                oldID: present(oldFile) && git_oid_is_zero(&oldID) == 0 ? ObjectID(oldID) : nil,
                newID: present(newFile) && git_oid_is_zero(&newID) == 0 ? ObjectID(newID) : nil,
                newMode: git_filemode_t(UInt32(newFile.mode))))
        }
        return changes
    }

    /// Throws when a path is, or goes through, a symbolic link below `root`, or resolves outside it.
    func requireContained(_ paths: [String], root: String) throws(GitError) {
        let rootReal = Self.realPath(root) ?? root
        let rootPrefix = rootReal.hasSuffix("/") ? rootReal : rootReal + "/"
        for path in paths {
            let components = normalize(path).split(separator: "/").map(String.init)
            if components.contains("..") {
                throw GitError(.outsideRepository, "\(path) leaves the work tree", context: "update the work tree")
            }
            var current = root.hasSuffix("/") ? String(root.dropLast()) : root
            var deepestExisting = current
            for (index, component) in components.enumerated() {
                current += "/" + component
                var status = stat()
                guard lstat(current, &status) == 0 else { break }
                if status.st_mode & S_IFMT == S_IFLNK {
                    let link = components[...index].joined(separator: "/")
                    throw GitError(.symlink, "\(link) is a symbolic link in the work tree", context: "update \(path) in the work tree",
                                   hint: "nothing was written; Pinwheel never writes through a link. Replace the link with the file itself")
                }
                deepestExisting = current
            }
            if let real = Self.realPath(deepestExisting), real != rootReal, !real.hasPrefix(rootPrefix) {
                throw GitError(.outsideRepository, "\(path) resolves outside the work tree (\(real))", context: "update the work tree",
                               hint: "nothing was written")
            }
        }
    }

    /// Whether the work tree's file is what `previous` had (or already what the new commit has).
    func workTreeMatches(_ change: TreeChange, root: String) throws(GitError) -> Bool {
        let full = root + normalize(change.path)
        var status = stat()
        guard lstat(full, &status) == 0 else { return change.oldID == nil || change.newID == nil }
        guard status.st_mode & S_IFMT == S_IFREG, let data = FileManager.default.contents(atPath: full) else { return false }
        var id = git_oid()
        let rc = data.withUnsafeBytes { git_odb_hash(&id, $0.baseAddress, $0.count, GIT_OBJECT_BLOB) }
        try check(rc, "hash \(change.path)")
        let current = ObjectID(id)
        return current == change.oldID || current == change.newID
    }

    /// Writes the new content to a new file beside the path and renames it over the path (or removes the
    /// file). Never opens the existing path for writing.
    func replaceInWorkTree(_ change: TreeChange, root: String) throws(GitError) {
        let relative = normalize(change.path)
        let full = root + relative
        guard let newID = change.newID else {
            if unlink(full) != 0 && errno != ENOENT { throw Self.posixError("remove \(relative)") }
            return
        }
        guard change.newMode == GIT_FILEMODE_BLOB || change.newMode == GIT_FILEMODE_BLOB_EXECUTABLE else {
            throw GitError(.symlink, "\(relative) is not a regular file in the commit", context: "update the work tree",
                           hint: "Pinwheel writes only regular files")
        }
        var blob: OpaquePointer?
        var oid = newID.oid
        try check(git_blob_lookup(&blob, handle, &oid), "read \(relative)")
        defer { git_blob_free(blob) }
        let folder = (full as NSString).deletingLastPathComponent
        try makeFolders(folder, root: root)
        let temporary = "\(folder)/.\((full as NSString).lastPathComponent).pinwheel-\(UInt64.random(in: 0...UInt64.max))"
        let mode: mode_t = change.newMode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0o755 : 0o644
        let fd = open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Self.posixError("write \(relative)") }
        var written = true
        let size = Int(git_blob_rawsize(blob))
        if size > 0, let raw = git_blob_rawcontent(blob) {
            var offset = 0
            while offset < size {
                let n = write(fd, raw + offset, size - offset)
                if n < 0 { if errno == EINTR { continue }; written = false; break }
                offset += n
            }
        }
        if written { written = fsync(fd) == 0 }
        let error = written ? nil : Self.posixError("write \(relative)")
        close(fd)
        if let error {
            unlink(temporary)
            throw error
        }
        if rename(temporary, full) != 0 {
            let error = Self.posixError("replace \(relative)")
            unlink(temporary)
            throw error
        }
    }

    /// Creates the missing folders of `folder` below `root`, refusing links.
    private func makeFolders(_ folder: String, root: String) throws(GitError) {
        var current = root.hasSuffix("/") ? String(root.dropLast()) : root
        let rest = folder.hasPrefix(current) ? String(folder.dropFirst(current.count)) : folder
        for component in rest.split(separator: "/") {
            current += "/\(component)"
            var status = stat()
            if lstat(current, &status) == 0 {
                guard status.st_mode & S_IFMT == S_IFDIR else {
                    throw GitError(.symlink, "\(current) is not a folder", context: "update the work tree")
                }
                continue
            }
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw Self.posixError("create \(current)") }
        }
    }

    static func posixError(_ context: String) -> GitError {
        GitError(.other, String(cString: strerror(errno)), context: context)
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
