import Foundation

/// Where one raw value came from, for provenance and error messages (internal to the loader).
struct ValueOrigin: Sendable, Equatable {
    /// The layer that supplied the value.
    var source: ConfigSource
    /// Text before the first colon of an error message: the file path, `env NAME`,
    /// `--set key=value` or `default` (nil: messages start with the key).
    var label: String?
    /// Whether `label` already shows the key (true for `--set key=value`), so messages need not
    /// repeat it.
    var labelShowsKey: Bool

    /// An origin given by a caller of the public validation API as plain text.
    static func described(_ label: String?) -> ValueOrigin {
        ValueOrigin(source: .default, label: label, labelShowsKey: false)
    }

    /// A built-in default.
    static let builtIn = ValueOrigin(source: .default, label: "default", labelShowsKey: false)

    /// A value from the config file at `path`.
    static func file(_ path: String) -> ValueOrigin {
        ValueOrigin(source: .file(path), label: path, labelShowsKey: false)
    }

    /// A value from the environment variable `name`.
    static func environment(_ name: String) -> ValueOrigin {
        ValueOrigin(source: .environment(name), label: "env \(name)", labelShowsKey: false)
    }

    /// A value from the option `--set argument`.
    static func commandLine(_ argument: String) -> ValueOrigin {
        ValueOrigin(source: .commandLine, label: "--set \(argument)", labelShowsKey: true)
    }

    /// An error about the value of `key`: `LABEL: KEY: MESSAGE` (the key left out when the label
    /// shows it).
    func error(key: String, _ message: String) -> ConfigError {
        ConfigError(origin: label, message: labelShowsKey ? message : "\(key): \(message)")
    }

    /// An error whose message already names the key: `LABEL: MESSAGE`.
    func error(_ message: String) -> ConfigError {
        ConfigError(origin: label, message: message)
    }
}
