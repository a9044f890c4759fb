import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Who may have put a plugin file where the host finds it. A library the host loads runs with
/// the user's rights, so a file, or a folder that is scanned, that someone else can write is a
/// way in: the host refuses files and folders that are world-writable or owned by another user
/// than the one running it (or root). A folder that is not scanned (a file named directly)
/// only matters when others could replace the file in it: a world-writable folder with the
/// sticky bit (like /tmp) is fine there.
enum PluginTrust {
    /// Why the plugin file `path` must not be loaded, or nil.
    /// - Parameter scanned: the file was found by scanning its folder (rather than named).
    static func problem(file path: String, scanned: Bool) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }  // the loader reports a missing file
        if let problem = problem(info, at: path, what: "the plugin file", fix: "chmod o-w \(path)") { return problem }
        let folder = (path as NSString).deletingLastPathComponent
        let directory = folder.isEmpty ? "." : folder
        guard stat(directory, &info) == 0 else { return nil }
        if !scanned, info.st_mode & S_IWOTH != 0, info.st_mode & S_ISVTX != 0, info.st_uid == 0 || info.st_uid == geteuid() {
            return nil
        }
        return problem(info, at: directory, what: "its folder", fix: "chmod o-w \(folder)")
    }

    /// Why the file or folder at `path`, whose status is `info`, is not trusted, or nil.
    private static func problem(_ info: stat, at path: String, what: String, fix: String) -> String? {
        if info.st_mode & S_IWOTH != 0 {
            return "refused: \(what) (\(path)) is world-writable, so anyone on this machine could replace the code the host would run; fix it with `\(fix)`"
        }
        let me = geteuid()
        if info.st_uid != me && info.st_uid != 0 {
            return "refused: \(what) (\(path)) is owned by user \(info.st_uid), not by you (\(me)) or root, so that user could change the code the host would run; copy the plugin into a folder of yours, or `chown` it"
        }
        return nil
    }
}
