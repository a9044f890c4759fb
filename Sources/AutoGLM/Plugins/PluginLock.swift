import CLibCrypto
import Foundation

/// `plugins.lock`: the files a plugin folder may load, each with its SHA-256, written by
/// `autoglm plugins lock DIR`. When a folder has one, the host loads only the files it lists
/// whose contents still hash to the recorded digest, so a file changed or added since the lock
/// was written is refused. The format is `sha256sum`'s (`<64 hex digits>  <file name>` a line),
/// so `sha256sum -c plugins.lock` checks it too.
public enum PluginLock {
    /// The lock file's name in a plugin folder.
    public static let fileName = "plugins.lock"

    /// Writes `folder`/plugins.lock for every plugin file in it; returns the entries written.
    /// - Throws: `LockError` naming the folder or file that could not be read or written.
    @discardableResult
    public static func write(folder: String) throws -> [(name: String, digest: String)] {
        let directory = PluginDirectory(path: folder, origin: .commandLine)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LockError(message: "\(folder): not a folder (plugins lock takes a plugin folder)")
        }
        let entries = try directory.candidateFiles().map { path -> (name: String, digest: String) in
            ((path as NSString).lastPathComponent, try digest(of: path))
        }
        let text = entries.map { "\($0.digest)  \($0.name)\n" }.joined()
        try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: folder).appendingPathComponent(fileName))
        return entries
    }

    /// Why `path` must not be loaded under its folder's lock, or nil (also when there is no lock).
    static func problem(file path: String) -> String? {
        let folder = (path as NSString).deletingLastPathComponent
        let lockPath = ((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: lockPath) else { return nil }
        let name = (path as NSString).lastPathComponent
        let entries: [String: String]
        do { entries = try read(lockPath) } catch { return "\(error)" }
        guard let expected = entries[name] else {
            return "refused: not listed in \(lockPath); if you trust it, run `autoglm plugins lock \(folder)` again"
        }
        do {
            let actual = try digest(of: path)
            if actual != expected {
                return "refused: its SHA-256 (\(actual)) is not the one in \(lockPath) (\(expected)): the file changed since the folder was locked; if you trust the new file, run `autoglm plugins lock \(folder)` again"
            }
        } catch { return "\(error)" }
        return nil
    }

    /// The entries of a lock file, by file name.
    static func read(_ lockPath: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: lockPath), let text = String(data: data, encoding: .utf8) else {
            throw LockError(message: "\(lockPath): cannot be read as text; write it again with `autoglm plugins lock`")
        }
        var entries: [String: String] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let parts = line.split(separator: " ", maxSplits: 1)
            let digest = parts.first.map(String.init) ?? ""
            guard parts.count == 2, digest.count == 64, digest.allSatisfy(\.isHexDigit) else {
                throw LockError(message: "\(lockPath):\(index + 1): not '<sha-256 in hex>  <file name>'; write it again with `autoglm plugins lock`")
            }
            entries[String(parts[1].drop { $0 == " " || $0 == "*" })] = digest.lowercased()
        }
        return entries
    }

    /// The SHA-256 of the file at `path`, in lowercase hex.
    static func digest(of path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LockError(message: "\(path): cannot be read")
        }
        var digest = [UInt8](repeating: 0, count: 32)
        var size = 0
        let ok = data.withUnsafeBytes { bytes in
            EVP_Q_digest(nil, "SHA256", nil, bytes.baseAddress, bytes.count, &digest, &size)
        }
        guard ok == 1, size == 32 else { throw LockError(message: "\(path): SHA-256 failed in libcrypto") }
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// A lock that cannot be read or written, or a file that cannot be hashed.
    public struct LockError: Error, CustomStringConvertible {
        /// What went wrong, naming the file.
        public let message: String
        public var description: String { message }
    }
}
