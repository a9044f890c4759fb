import Foundation

/// The training text: one file, or every text file of a directory (sorted by name; `.dat` and
/// `.u8` index files are skipped, and empty, binary or non-UTF-8 files with a warning),
/// concatenated. A single file that is empty, binary or not UTF-8 is refused.
public enum Corpus {
    /// Bytes read between two progress reports.
    static let chunkSize = 8 << 20

    /// Reads the text at `path`. `progress` receives (bytes read, bytes of all the files to
    /// read) after each chunk of at most `chunkSize` bytes.
    public static func load(path: String, progress: ((Int, Int) -> Void)? = nil) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw DataError(message: "data.path: '\(path)' does not exist (give a text file or a directory of text files; on Debian `apt-get install fortunes` provides /usr/share/games/fortunes)")
        }
        if !isDir.boolValue {
            var reader = ChunkedReader(total: fileSize(path), progress: progress)
            guard let data = reader.read(path) else { throw DataError(message: "data.path: '\(path)' cannot be read (check its permissions)") }
            if let problem = problem(with: data) { throw DataError(message: "data.path: '\(path)' \(problem)") }
            return String(decoding: data, as: UTF8.self)
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
        let files = names.filter { !$0.hasSuffix(".dat") && !$0.hasSuffix(".u8") && !$0.hasPrefix(".") }
            .map { (path as NSString).appendingPathComponent($0) }
            .filter { file in
                var sub: ObjCBool = false
                return FileManager.default.fileExists(atPath: file, isDirectory: &sub) && !sub.boolValue
            }
        var reader = ChunkedReader(total: files.reduce(0) { $0 + fileSize($1) }, progress: progress)
        var parts: [String] = []
        for file in files {
            guard let data = reader.read(file) else {
                HostLog.emit(.warning, "data.path: skipped '\(file)': it cannot be read")
                continue
            }
            if let problem = problem(with: data) {
                HostLog.emit(.warning, "data.path: skipped '\(file)': it \(problem)")
                continue
            }
            parts.append(String(decoding: data, as: UTF8.self))
        }
        guard !parts.isEmpty else { throw DataError(message: "data.path: directory '\(path)' holds no UTF-8 text files") }
        return parts.joined(separator: "\n")
    }

    /// Why `data` is not a training text (empty, binary, not UTF-8), or nil.
    static func problem(with data: Data) -> String? {
        if data.isEmpty { return "is empty" }
        if data.contains(0) { return "is binary (it holds NUL bytes), not text" }
        if String(data: data, encoding: .utf8) == nil { return "is not UTF-8 text (convert it, e.g. with `iconv -t UTF-8`)" }
        return nil
    }

    /// The size of the file at `path` in bytes (0 if unknown).
    private static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Reads files in chunks, counting the bytes of all of them for the progress reports.
    private struct ChunkedReader {
        /// Bytes of all the files to read (from their sizes before reading).
        let total: Int
        /// Receives (bytes read, total).
        let progress: ((Int, Int) -> Void)?
        /// Bytes read so far, over all files.
        var done = 0

        init(total: Int, progress: ((Int, Int) -> Void)?) {
            self.total = total
            self.progress = progress
        }

        /// The bytes of `file`, or nil if it cannot be read.
        mutating func read(_ file: String) -> Data? {
            guard let handle = FileHandle(forReadingAtPath: file) else { return nil }
            defer { try? handle.close() }
            var data = Data(capacity: Corpus.fileSize(file))
            while true {
                let chunk: Data?
                do { chunk = try handle.read(upToCount: Corpus.chunkSize) } catch { return nil }
                guard let chunk, !chunk.isEmpty else { break }  // nil: end of file
                data.append(chunk)
                done += chunk.count
                progress?(done, max(total, done))
            }
            return data
        }
    }
}

/// A problem with the training data.
public struct DataError: Error, CustomStringConvertible {
    /// What is wrong.
    public let message: String
    public var description: String { message }
}
