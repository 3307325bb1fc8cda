import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A folder agencies (or their transfer scripts) drop files into. A file is taken once it has
/// stopped changing for `settle`, never while it still has a temporary name (`.x.tmp`,
/// `x.part`…); once its items are in it moves to `done/`, and a file that cannot be read moves
/// to `failed/` with the reason in a `.reason.txt` beside it. Whatever the folder holds is
/// never trusted: links, devices and other non-files are left alone, and a file larger than
/// `maxBytes` is refused without being read.
///
/// Every call is blocking file system work: callers run it off the event loops.
public struct DropFolder: Sendable {
    public let path: String
    public let settle: Duration
    public let maxBytes: Int

    public static let doneFolder = "done"
    public static let failedFolder = "failed"
    /// What transfer tools name a file while it is still arriving.
    static let temporarySuffixes = [".tmp", ".temp", ".part", ".partial", ".filepart", ".crdownload", ".swp", "~"]

    public init(path: String, settle: Duration, maxBytes: Int = 16 << 20) {
        self.path = path
        self.settle = settle
        self.maxBytes = maxBytes
    }

    public struct File: Sendable, Equatable {
        public var name: String
        public var size: Int
        public var modified: Date
    }

    /// Files ready to be taken, oldest first (an agency's versions arrive in order), at most
    /// `limit`; and how many more are ready beyond the limit (files still arriving do not count:
    /// they are not late yet).
    public func ready(limit: Int, now: Date = Date()) throws -> (files: [File], waiting: Int) {
        guard let directory = opendir(path) else {
            throw WiredeskError(.unavailable, "cannot read the drop folder \(path): \(String(cString: strerror(errno)))")
        }
        defer { closedir(directory) }
        let settled = now.addingTimeInterval(-Double(settle.milliseconds) / 1000)
        var files: [File] = []
        var waiting = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if Self.isTemporary(name) { continue }
            var status = stat()
            // lstat: a link is not followed out of the folder.
            guard lstat(path + "/" + name, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
            let modified = Date(
                timeIntervalSince1970: Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) / 1e9)
            guard modified <= settled else { continue }
            files.append(File(name: name, size: Int(status.st_size), modified: modified))
        }
        files.sort { ($0.modified, $0.name) < ($1.modified, $1.name) }
        if files.count > limit {
            waiting += files.count - limit
            files.removeLast(files.count - limit)
        }
        return (files, waiting)
    }

    /// Hidden files and names transfer tools use while a file is still arriving.
    static func isTemporary(_ name: String) -> Bool {
        name.hasPrefix(".") || temporarySuffixes.contains { name.lowercased().hasSuffix($0) }
    }

    /// The file's bytes; refused when it is larger than the folder takes.
    public func read(_ file: File) throws -> Data {
        guard file.size <= maxBytes else {
            throw WiredeskError(.validation, "the file is \(file.size) bytes; a drop folder takes at most \(maxBytes)")
        }
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path + "/" + file.name))
            defer { try? handle.close() }
            data = try handle.read(upToCount: maxBytes + 1) ?? Data()
        } catch {
            // This file's problem (its permissions, say), not the folder's: it goes aside with why.
            throw WiredeskError(.validation, "the file cannot be read: \(error.localizedDescription)")
        }
        guard data.count <= maxBytes else {
            throw WiredeskError(.validation, "the file grew past \(maxBytes) bytes while it was read")
        }
        return data
    }

    /// Moves a file whose items are in to `done/`.
    public func done(_ file: File) throws {
        _ = try move(file.name, to: Self.doneFolder)
    }

    /// Moves a file that could not be taken to `failed/`, with the reason in `NAME.reason.txt`.
    public func failed(_ file: File, reason: String) throws {
        let moved = try move(file.name, to: Self.failedFolder)
        let note = path + "/" + Self.failedFolder + "/" + moved + ".reason.txt"
        try Data((reason + "\n").utf8).write(to: URL(fileURLWithPath: note), options: .atomic)
    }

    /// Renames `name` into `folder`, beside any earlier file of the same name (`NAME.1`, `NAME.2`…):
    /// an agency that sends the same file name twice keeps both. Returns the name it got.
    private func move(_ name: String, to folder: String) throws -> String {
        let target = path + "/" + folder
        if mkdir(target, 0o755) != 0 && errno != EEXIST {
            throw WiredeskError(.unavailable, "cannot make \(target): \(String(cString: strerror(errno)))")
        }
        var candidate = name
        var n = 0
        while true {
            // link + unlink, never rename: rename would replace a file already there.
            if link(path + "/" + name, target + "/" + candidate) == 0 {
                unlink(path + "/" + name)
                return candidate
            }
            guard errno == EEXIST, n < 10_000 else {
                throw WiredeskError(.unavailable, "cannot move \(name) to \(folder)/: \(String(cString: strerror(errno)))")
            }
            n += 1
            candidate = "\(name).\(n)"
        }
    }
}
