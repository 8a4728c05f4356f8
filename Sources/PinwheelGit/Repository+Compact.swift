import CGit2
import Foundation

extension Repository {
    /// How many pack files the object database holds.
    public func packFileCount() -> Int {
        Self.packFiles(in: gitDirectory.appendingPathComponent("objects/pack")).filter { $0.hasSuffix(".pack") }.count
    }

    /// Rewrites the object database as one pack of every object reachable from a reference, then removes the other
    /// packs and the loose objects, and reopens the object database. Returns how many pack files it replaced.
    ///
    /// Why: each fetch that brings something writes a pack of its own (libgit2 has no `fetch.unpackLimit` and no
    /// `gc`), and each pack keeps an index mapped and, while used, a descriptor open. A controller whose cache
    /// fetched a commit every 30 seconds for a month would hold tens of thousands of packs and look for every
    /// object in each of them. Meant for a cache that nobody else writes to: objects only reflogs or nothing refer
    /// to are dropped, as `git gc --prune=now` would. The new pack is checked to hold every reference's target
    /// before anything is removed; on any error nothing is removed.
    @discardableResult
    public func compactObjects() throws(GitError) -> Int {
        try locked { () throws(GitError) -> Int in
            let packFolder = gitDirectory.appendingPathComponent("objects/pack")
            let before = Set(Self.packFiles(in: packFolder))
            let (written, tips) = try writePackOfReachableObjects()
            guard !written.isEmpty else { return 0 }
            try verifyPack(named: written, in: packFolder, holds: tips)
            var removed = 0
            for name in before where !name.hasPrefix(written) {
                try? FileManager.default.removeItem(at: packFolder.appendingPathComponent(name))
                if name.hasSuffix(".pack") { removed += 1 }
            }
            removeLooseObjects()
            try reopenObjectDatabase()
            return removed
        }
    }

    /// Writes a pack of everything reachable from the references; its base name (`pack-<hash>`) and the tips.
    private func writePackOfReachableObjects() throws(GitError) -> (name: String, tips: [git_oid]) {
        var builder: OpaquePointer?
        try check(git_packbuilder_new(&builder, handle), "compact objects: start a pack")
        defer { git_packbuilder_free(builder) }
        var walk: OpaquePointer?
        try check(git_revwalk_new(&walk, handle), "compact objects: walk history")
        defer { git_revwalk_free(walk) }
        var names = git_strarray()
        try check(git_reference_list(&names, handle), "compact objects: list references")
        defer { git_strarray_dispose(&names) }
        var tips: [git_oid] = []
        for index in 0..<names.count {
            guard let name = names.strings[index] else { continue }
            var target = git_oid()
            guard git_reference_name_to_id(&target, handle, name) == 0 else { continue }
            tips.append(target)
            var object: OpaquePointer?
            guard git_object_lookup(&object, handle, &target, GIT_OBJECT_ANY) == 0 else { continue }
            let type = git_object_type(object)
            git_object_free(object)
            if type == GIT_OBJECT_COMMIT {
                try check(git_revwalk_push(walk, &target), "compact objects: walk from \(String(cString: name))")
            } else {
                // An annotated tag or a tree or blob a reference names directly: itself and what it refers to.
                try check(git_packbuilder_insert_recur(builder, &target, nil), "compact objects: add \(String(cString: name))")
            }
        }
        guard !tips.isEmpty else { return ("", []) }
        try check(git_packbuilder_insert_walk(builder, walk), "compact objects: add the history")
        try check(git_packbuilder_write(builder, nil, 0, nil, nil), "compact objects: write the pack")
        guard let name = git_packbuilder_name(builder) else {
            throw GitError(.other, "compact objects: libgit2 did not name the pack it wrote")
        }
        return ("pack-" + String(cString: name), tips)
    }

    /// Throws unless a fresh object database of `name` alone has every tip.
    private func verifyPack(named name: String, in folder: URL, holds tips: [git_oid]) throws(GitError) {
        var odb: OpaquePointer?
        try check(git_odb_new(&odb), "compact objects: check the pack")
        defer { git_odb_free(odb) }
        var backend: OpaquePointer?
        let index = folder.appendingPathComponent(name + ".idx").path
        try check(git_odb_backend_one_pack(&backend, index), "compact objects: open \(name)")
        try check(git_odb_add_backend(odb, backend, 1), "compact objects: open \(name)")
        for var tip in tips where git_odb_exists(odb, &tip) == 0 {
            throw GitError(.other, "compact objects: the new pack lacks \(ObjectID(tip).hex); nothing removed")
        }
    }

    private static func packFiles(in folder: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasPrefix("pack-") }
    }

    /// Removes `objects/xx/…` (every object is in the new pack now).
    private func removeLooseObjects() {
        let objects = gitDirectory.appendingPathComponent("objects")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: objects.path)) ?? []
        for name in names where name.count == 2 && name.allSatisfy(\.isHexDigit) {
            try? FileManager.default.removeItem(at: objects.appendingPathComponent(name))
        }
    }

    /// Replaces the repository's object database with a fresh one: libgit2 keeps using packs it has loaded even
    /// after their files are gone, and never forgets one on refresh.
    private func reopenObjectDatabase() throws(GitError) {
        var odb: OpaquePointer?
        try check(git_odb_open(&odb, gitDirectory.appendingPathComponent("objects").path), "compact objects: reopen")
        defer { git_odb_free(odb) }
        try check(git_repository_set_odb(handle, odb), "compact objects: reopen")
    }
}
