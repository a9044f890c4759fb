import Foundation

/// How the value of a path key (`data.path`, `run.dir`, `plugins.paths`, …) becomes a path: `~`
/// and `~/…` are the home directory (`~name/…` that user's) wherever the value came from; a
/// relative path written in a config file is relative to that file's directory (so a config means
/// the same files from any working directory); a relative path from `--set`, the environment or a
/// default stays relative to the working directory.
public enum ConfigPaths {
    /// The path `value` names, given where it came from and the config file's directory.
    static func resolve(_ value: String, source: ConfigSource, configDirectory: String?) -> String {
        let expanded = expandingTilde(value)
        guard case .file = source, let configDirectory, !expanded.hasPrefix("/"), !expanded.isEmpty else { return expanded }
        return ((configDirectory as NSString).appendingPathComponent(expanded) as NSString).standardizingPath
    }

    /// `value` with a leading `~` or `~/` replaced by the home directory (`$HOME`, else the
    /// password database's) and `~name/` by user name's (unchanged when there is no such user):
    /// the one expansion of every path the user gives (config keys and command-line arguments).
    public static func expandingTilde(_ value: String) -> String {
        guard value.hasPrefix("~") else { return value }
        let user = value.dropFirst().prefix { $0 != "/" }
        let rest = value.dropFirst(1 + user.count)
        if user.isEmpty { return (ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()) + rest }
        guard let entry = getpwnam(String(user)), let dir = entry.pointee.pw_dir else { return value }
        return String(cString: dir) + rest
    }
}
