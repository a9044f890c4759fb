import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The lock a training holds on its run directory (`.lock`, an exclusive `flock`), so a second
/// training into the same directory is refused instead of mixing two runs. The file holds the
/// holder's process id for the message. Released when the object goes away or the process dies.
final class RunLock {
    /// The open lock file.
    private let fd: Int32

    /// Takes the lock of `directory`.
    /// - Throws: `DataError` when another process holds it (naming that process) or the directory
    ///   is not writable.
    init(directory: URL) throws {
        let path = directory.appendingPathComponent(".lock").path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw DataError(message: "run.dir: cannot write in '\(directory.path)': \(String(cString: strerror(errno))); choose a writable run.dir")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            close(fd)
            throw DataError(message: "run.dir: '\(directory.path)' is in use by another training (process \(holder)); wait for it to end or choose another run.dir")
        }
        let pid = Data("\(getpid())\n".utf8)
        ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }

    /// Whether a process holds the lock of `directory` now.
    static func isHeld(in directory: URL) -> Bool {
        let fd = open(directory.appendingPathComponent(".lock").path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return true
    }
}
