import Foundation

/// How the value of a path key (`data.path`, `run.dir`, `plugins.paths`, …) becomes a path: `~`
/// and `~/…` are the home directory wherever the value came from; a relative path written in a
/// config file is relative to that file's directory (so a config means the same files from any
/// working directory); a relative path from `--set`, the environment or a default stays relative
/// to the working directory.
enum ConfigPaths {
    /// The path `value` names, given where it came from and the config file's directory.
    static func resolve(_ value: String, source: ConfigSource, configDirectory: String?) -> String {
        let expanded = expandingTilde(value)
        guard case .file = source, let configDirectory, !expanded.hasPrefix("/"), !expanded.isEmpty else { return expanded }
        return ((configDirectory as NSString).appendingPathComponent(expanded) as NSString).standardizingPath
    }

    /// `value` with a leading `~` or `~/` replaced by the home directory.
    static func expandingTilde(_ value: String) -> String {
        guard value == "~" || value.hasPrefix("~/") else { return value }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return home + value.dropFirst()
    }
}
