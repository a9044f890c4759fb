import AutoGLM
import CAutoGLM
import Foundation

/// A failure of the C API layer itself (a bad argument, handle or version), with the status the
/// exported function returns.
struct APIError: Error, CustomStringConvertible {
    /// The status code.
    let status: aglm_status
    /// What is wrong and what to do.
    let message: String

    /// Creates an error.
    init(_ status: aglm_status, _ message: String) {
        self.status = status
        self.message = message
    }

    /// An invalid argument (a NULL pointer, a bad size or index).
    static func invalid(_ message: String) -> APIError { APIError(AGLM_ERR_INVALID_ARGUMENT, message) }

    /// The message.
    var description: String { message }
}

/// The boundary every exported function runs its work behind: a thrown error becomes a status
/// code and the thread's last error message, so that no Swift error crosses into C.
enum Boundary {
    /// Runs `body` for the exported function `function`; returns AGLM_OK, or the status of the
    /// error it threw with the message (prefixed by the function's name) left for
    /// `aglm_last_error`.
    static func run(_ function: StaticString, _ body: () throws -> Void) -> aglm_status {
        do {
            try body()
            return AGLM_OK
        } catch {
            let (status, message) = describe(error)
            LastError.set("\(function): \(message)")
            return status
        }
    }

    /// The status of an error of the library, and its message.
    static func describe(_ error: Error) -> (aglm_status, String) {
        switch error {
        case let error as APIError: return (error.status, error.message)
        case let error as SessionError: return (AGLM_ERR_BUSY, error.description)
        case let error as ConfigError: return (AGLM_ERR_CONFIG, error.description)
        case let error as DataError: return (AGLM_ERR_CONFIG, error.description)
        case let error as PluginError: return (AGLM_ERR_PLUGIN, error.description)
        case let error as FunctionRegistrationError: return (AGLM_ERR_PLUGIN, error.description)
        case let error as CheckpointError: return (AGLM_ERR_CHECKPOINT, error.description)
        case let error as DistributedError: return (AGLM_ERR_STATE, error.description)
        case let error as RanksDrifted: return (AGLM_ERR_STATE, error.description)
        case let error as TrainingStopped: return (AGLM_ERR_NUMERIC, error.description)
        case let error as TrainingFailed: return (describe(error.underlying).0, error.description)
        default: return (AGLM_ERR_INTERNAL, "\(error)")
        }
    }
}
