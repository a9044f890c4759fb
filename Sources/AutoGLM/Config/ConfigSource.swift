import Foundation

/// Where a configuration value came from (its provenance), lowest to highest precedence: a
/// default, the config file, the environment, the command line. Error messages start with the
/// source's `label` (`config.yaml: train.stpes: unknown key`), `config show` prints its
/// `description`.
public enum ConfigSource: Sendable, Hashable, CustomStringConvertible {
    /// The built-in default of a host key.
    case `default`
    /// The declared default of a component parameter (a plugin's schema).
    case componentDefault(kind: ComponentKind, name: String)
    /// The config file at this path (as given), or the label of an in-memory config text.
    case file(String)
    /// The environment variable with this name (`AUTOGLM_…`).
    case environment(String)
    /// A `--set key=value` option (or a C API override), as written.
    case commandLine(String)
    /// A source described in words by a caller of the validation API (e.g. `run.json`).
    case described(String?)

    /// As shown by `autoglm config show`: `default`, `file PATH`, `env NAME`, `--set`.
    public var description: String {
        switch self {
        case .default, .componentDefault: return "default"
        case .file(let path): return "file \(path)"
        case .environment(let name): return "env \(name)"
        case .commandLine: return "--set"
        case .described(let text): return text ?? "default"
        }
    }

    /// Text before the first colon of an error message: the file path, `env NAME`,
    /// `--set key=value`, `default`, `default of optimizer 'adamw'` (nil: messages start with
    /// the key).
    var label: String? {
        switch self {
        case .default: return "default"
        case .componentDefault(let kind, let name): return "default of \(kind.rawValue) '\(name)'"
        case .file(let path): return path
        case .environment(let name): return "env \(name)"
        case .commandLine(let argument): return "--set \(argument)"
        case .described(let text): return text
        }
    }

    /// An error about the value of `key`: `LABEL: KEY: MESSAGE` (the key left out when the
    /// label, `--set key=value`, already shows it).
    func error(key: String, _ message: String) -> ConfigError {
        if case .commandLine = self { return ConfigError(origin: label, message: message) }
        return ConfigError(origin: label, message: "\(key): \(message)")
    }

    /// An error whose message already names the key: `LABEL: MESSAGE`.
    func error(_ message: String) -> ConfigError {
        ConfigError(origin: label, message: message)
    }
}
