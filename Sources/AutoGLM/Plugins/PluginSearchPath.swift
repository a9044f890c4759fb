import Foundation

/// One directory of the plugin search path, with where it came from.
public struct PluginDirectory: Sendable, Equatable {
    /// Where a directory on the search path came from.
    public enum Origin: String, Sendable {
        /// A `--plugins DIR` option.
        case commandLine = "--plugins"
        /// The `AUTOGLM_PLUGIN_PATH` environment variable.
        case environment = "AUTOGLM_PLUGIN_PATH"
        /// The config's `plugins.paths`.
        case config = "plugins.paths"
        /// The directory the bundled plugins are built into.
        case bundled = "bundled"
    }

    /// The directory.
    public var path: String
    /// Its origin.
    public var origin: Origin

    /// Creates an entry.
    public init(path: String, origin: Origin) { self.path = path; self.origin = origin }

    /// Shared objects in the directory, sorted by name: every `*.so`/`*.dylib` of a user
    /// directory, only `libaglm_*` files of the bundled one (which also holds other libraries).
    /// A path naming a file directly is returned as is; nothing is there: none.
    public func candidateFiles() -> [String] { contents()?.files ?? [] }

    /// What the path holds, read once: nil when nothing is there, else the candidate files (as
    /// `candidateFiles`) and whether the path is a folder (its files were found by scanning).
    public func contents() -> (files: [String], isFolder: Bool)? {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return nil }
        if !isDir.boolValue { return ([path], false) }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        let files = names.filter { name in
            guard name.hasSuffix(".so") || name.hasSuffix(".dylib") else { return false }
            return origin != .bundled || name.hasPrefix("libaglm_")
        }.sorted().map { (path as NSString).appendingPathComponent($0) }
        return (files, true)
    }
}

/// Builds the plugin search path in its documented order: `--plugins` options, then
/// `AUTOGLM_PLUGIN_PATH` (colon separated), then the config's `plugins.paths`, then the bundled
/// plugins' directory (the one holding the running executable).
public enum PluginSearchPath {
    /// The ordered directories.
    public static func directories(commandLine: [String], environment: [String: String],
                                   config: [String], bundled: String? = bundledDirectory) -> [PluginDirectory] {
        var dirs = commandLine.map { PluginDirectory(path: $0, origin: .commandLine) }
        if let env = environment["AUTOGLM_PLUGIN_PATH"] {
            dirs += env.split(separator: ":").map { PluginDirectory(path: String($0), origin: .environment) }
        }
        dirs += config.map { PluginDirectory(path: $0, origin: .config) }
        if let bundled { dirs.append(PluginDirectory(path: bundled, origin: .bundled)) }
        return dirs
    }

    /// The bundled plugins' directory: in an installed tree `lib/autoglm/plugins` (beside
    /// `lib/libautoglm.so`, or above `bin/autoglm`), else the directory of the module holding
    /// the host's code (`autoglm`, `libautoglm.so` or a test binary), where `swift build` puts
    /// them.
    public static let bundledDirectory: String? = {
        guard let module = ModuleFile.path ?? Bundle.main.executableURL?.path else { return nil }
        let folder = (module as NSString).deletingLastPathComponent
        let installed = [folder + "/autoglm/plugins", folder + "/../lib/autoglm/plugins"].first { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
        return installed.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path } ?? folder
    }()
}
