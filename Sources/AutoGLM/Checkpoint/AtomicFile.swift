import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes files so that a crash, a full disk or a failed write never leaves a partial file:
/// the bytes go to a temporary file in the same directory, which is flushed to disk (fsync),
/// renamed over the destination, and the directory is flushed too. The file at the
/// destination is therefore always either the previous one or the complete new one, also after
/// a power loss. On any failure the temporary file is removed and the destination is untouched.
/// For every file of a run (weights, checkpoints, JSON manifests).
public enum AtomicFile {
    /// Replaces the file at `url` with `data`.
    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { output in try output.append(data) }
    }

    /// Replaces the file at `url` with the bytes `produce` appends to the `Output` it is given
    /// (in order; large buffers go straight to the file, with no copy of the whole content).
    /// When `produce` throws, its error is rethrown after the temporary file is removed. The
    /// new file gets mode 0666 less the process's umask, like any file the process creates.
    /// Not safe to call for the same `url` from two threads at once (the last rename wins).
    public static func write(to url: URL, _ produce: (Output) throws -> Void) throws {
        let directory = url.deletingLastPathComponent().path
        let output = try Output(temporaryNextTo: url)
        do {
            try produce(output)
            try output.finish()
            guard rename(output.temporaryPath, url.path) == 0 else {
                throw failure(url, errno, "cannot rename the temporary file \(output.temporaryPath) over it")
            }
        } catch {
            output.discard()
            throw error
        }
        try syncDirectory(directory, for: url)
    }

    /// The temporary file being written: `append` adds bytes to its end. Valid only inside the
    /// `produce` closure that received it; writing after that throws.
    public final class Output {
        /// Path of the temporary file (in the destination's directory, hidden: a leading dot).
        let temporaryPath: String
        /// The destination, for messages.
        private let destination: URL
        /// The open descriptor; -1 once closed.
        private var descriptor: Int32

        /// Creates a new temporary file next to `destination` (a random name, never an
        /// existing file).
        fileprivate init(temporaryNextTo destination: URL) throws {
            self.destination = destination
            let directory = destination.deletingLastPathComponent().path
            var attempt = 0
            while true {
                let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
                let path = directory + "/." + destination.lastPathComponent + ".tmp-" + suffix
                let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
                if fd >= 0 {
                    temporaryPath = path
                    descriptor = fd
                    return
                }
                let code = errno
                attempt += 1
                guard code == EEXIST, attempt < 16 else {
                    throw failure(destination, code, "cannot create a temporary file in \(directory)")
                }
            }
        }

        /// Appends `bytes` (retrying short writes and interrupted calls).
        public func append(_ bytes: UnsafeRawBufferPointer) throws {
            guard descriptor >= 0 else {
                throw CheckpointError(message: "\(destination.path): written to after its atomic write finished (a bug in the caller)")
            }
            var offset = 0
            while offset < bytes.count {
                let written = systemWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    let code = errno
                    if code == EINTR { continue }
                    throw failure(destination, code, "cannot write to the temporary file \(temporaryPath)")
                }
                offset += written
            }
        }

        /// Appends `data`.
        public func append(_ data: Data) throws {
            try data.withUnsafeBytes { try append($0) }
        }

        /// Flushes the file to disk and closes it.
        fileprivate func finish() throws {
            let fd = descriptor
            descriptor = -1
            guard fsync(fd) == 0 else {
                let error = failure(destination, errno, "cannot flush the temporary file \(temporaryPath) to disk")
                close(fd)
                throw error
            }
            guard close(fd) == 0 else { throw failure(destination, errno, "cannot close the temporary file \(temporaryPath)") }
        }

        /// Closes (if open) and removes the temporary file, after a failure.
        fileprivate func discard() {
            if descriptor >= 0 { close(descriptor) }
            descriptor = -1
            unlink(temporaryPath)
        }
    }

    /// Flushes `directory` (so the rename that put `url` in it survives a crash).
    static func syncDirectory(_ directory: String, for url: URL) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(url, errno, "written, but its directory cannot be opened to flush it") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure(url, errno, "written, but its directory cannot be flushed to disk") }
    }

    /// An error for `url`: what failed, and the system's reason for error number `code`
    /// (the `errno` of the failed call, read right after it).
    private static func failure(_ url: URL, _ code: Int32, _ what: String) -> CheckpointError {
        CheckpointError(message: "\(url.path): \(what): \(String(cString: strerror(code)))")
    }
}

/// The `write(2)` system call (a file-scope name: inside `AtomicFile` its own `write` would
/// shadow it).
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, bytes, count)
}
