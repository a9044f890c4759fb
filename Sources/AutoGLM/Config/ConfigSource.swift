import Foundation

/// Where a resolved configuration value came from, lowest to highest precedence:
/// built-in defaults, the config file, the environment, the command line.
public enum ConfigSource: Sendable, Hashable, CustomStringConvertible {
    /// The built-in default (host defaults, or a component's declared default).
    case `default`
    /// The config file at this path (as given on the command line).
    case file(String)
    /// The environment variable with this name (`AUTOGLM_…`).
    case environment(String)
    /// A `--set key=value` option.
    case commandLine

    /// As shown by `autoglm config show`: `default`, `file PATH`, `env NAME`, `--set`.
    public var description: String {
        switch self {
        case .default: return "default"
        case .file(let path): return "file \(path)"
        case .environment(let name): return "env \(name)"
        case .commandLine: return "--set"
        }
    }
}
