import Foundation

/// A configuration problem. The text names where the offending value came from (the config
/// file, `env AUTOGLM_…`, `--set key=value`, `default`) and the key, then what is wrong,
/// e.g. `config.yaml: optimizer.lrr: unknown key for optimizer 'adamw' (did you mean 'lr'?)`.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Where the value came from, as printed before the first colon (nil when the problem
    /// involves several values whose origins the message names itself).
    public var origin: String?
    /// What is wrong, naming the key.
    public var message: String

    /// Creates an error.
    public init(origin: String?, message: String) {
        self.origin = origin
        self.message = message
    }

    /// `ORIGIN: MESSAGE`, or just the message when there is no single origin.
    public var description: String {
        guard let origin else { return message }
        return "\(origin): \(message)"
    }
}

extension ConfigError: LocalizedError {
    /// The same text as `description`.
    public var errorDescription: String? { description }
}
