import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file the user names for Lathe to write (`--out`): checked before any work, so a bad path
/// costs a moment rather than a fit, then written atomically, so a failed write never leaves a
/// partial file. Only a regular file is ever replaced: the atomic rename would put a new file
/// in place of a directory entry that is a device, a FIFO or a symbolic link, not write to it.
public enum OutputFile {
    /// Checks that `path` can take the new file.
    /// - Parameters:
    ///   - path: where the file will go.
    ///   - inputs: files the same command reads (a data file), which it must not overwrite.
    /// - Throws: `InputError` at `path`: empty, a missing or read-only folder, something other
    ///   than a regular file there, or one of `inputs`.
    public static func check(_ path: String, notSameAs inputs: [String] = []) throws(InputError) {
        guard !path.isEmpty else { throw InputError("the output file name is empty") }
        var existing = stat()
        if lstat(path, &existing) == 0 {
            switch existing.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFDIR: throw InputError("is a directory, not a file to write", at: path)
            case S_IFLNK: throw InputError("is a symbolic link; name the file it points to", at: path)
            default: throw InputError("is a device, FIFO or socket, not a file to write", at: path)
            }
            for input in inputs {
                var other = stat()
                if stat(input, &other) == 0, other.st_dev == existing.st_dev, other.st_ino == existing.st_ino {
                    throw InputError("is the input data file; write the output elsewhere", at: path)
                }
            }
        }
        let folder = path.lastIndex(of: "/").map { slash in slash == path.startIndex ? "/" : String(path[..<slash]) } ?? "."
        var info = stat()
        guard stat(folder, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw InputError("folder \(quoted(folder)) does not exist", at: path)
        }
        guard access(folder, W_OK) == 0 else { throw InputError("folder \(quoted(folder)) is not writable", at: path) }
    }

    /// Writes `bytes` to `path` atomically, after `check(path)`.
    /// - Throws: `InputError` at `path` when it cannot be written.
    public static func write(_ bytes: [UInt8], to path: String) throws(InputError) {
        try check(path)
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            // Foundation's own text ("The operation could not be completed") says nothing: the
            // system's reason is underneath.
            let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
            let reason = underlying.map { String(cString: strerror(Int32($0.code))) } ?? error.localizedDescription
            throw InputError("cannot write the file: \(reason)", at: path)
        }
    }
}
