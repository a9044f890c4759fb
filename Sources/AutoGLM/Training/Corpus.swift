import Foundation

/// The training text: one file, or every text file of a directory (sorted by name; `.dat` and
/// `.u8` index files and files that are not UTF-8 text are skipped), concatenated.
public enum Corpus {
    /// Reads the text at `path`.
    public static func load(path: String) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw DataError(message: "data.path: '\(path)' does not exist (give a text file or a directory of text files; on Debian `apt-get install fortunes` provides /usr/share/games/fortunes)")
        }
        if !isDir.boolValue {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw DataError(message: "data.path: '\(path)' is not UTF-8 text")
            }
            return text
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
        var parts: [String] = []
        for name in names where !name.hasSuffix(".dat") && !name.hasSuffix(".u8") && !name.hasPrefix(".") {
            let file = (path as NSString).appendingPathComponent(name)
            var sub: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file, isDirectory: &sub), !sub.boolValue,
                  let data = FileManager.default.contents(atPath: file), !data.contains(0),
                  let text = String(data: data, encoding: .utf8) else { continue }
            parts.append(text)
        }
        guard !parts.isEmpty else { throw DataError(message: "data.path: directory '\(path)' holds no UTF-8 text files") }
        return parts.joined(separator: "\n")
    }
}

/// A problem with the training data.
public struct DataError: Error, CustomStringConvertible {
    /// What is wrong.
    public let message: String
    public var description: String { message }
}
