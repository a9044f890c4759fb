import CAutoGLM
import Foundation

/// The version of the C API this library implements (autoglm.h's AGLM_API_MAJOR/MINOR) and the
/// check every `_init` function makes of the version the program was compiled against.
enum APIVersion {
    /// This library's major.
    static let major = UInt32(AGLM_API_MAJOR)
    /// This library's minor.
    static let minor = UInt32(AGLM_API_MINOR)
    /// major << 16 | minor, as AGLM_API_VERSION.
    static let packed = major << 16 | minor

    /// The version as "1.0".
    static func text(_ packed: UInt32) -> String { "\(packed >> 16).\(packed & 0xFFFF)" }

    /// The minor of `version` after checking that this library serves a program compiled
    /// against it: the same major, and a minor no newer than the library's.
    /// - Throws: `APIError` (AGLM_ERR_VERSION) saying both versions and the fix.
    static func check(_ version: UInt32) throws -> UInt32 {
        guard version >> 16 == major else {
            throw APIError(AGLM_ERR_VERSION, "the program was compiled against autoglm.h \(text(version)), this libautoglm implements \(text(packed)) (another major): rebuild the program against this library's header (pkg-config --cflags autoglm)")
        }
        guard version & 0xFFFF <= minor else {
            throw APIError(AGLM_ERR_VERSION, "the program was compiled against autoglm.h \(text(version)), newer than this libautoglm (\(text(packed))): install libautoglm \(text(version)) or newer")
        }
        return version & 0xFFFF
    }
}

/// The names of the status codes (plugin.h's and autoglm.h's), for `aglm_status_name`.
enum StatusNames {
    /// Each code's name as a C string for the life of the process (immutable, so shared safely).
    nonisolated(unsafe) private static let names: [aglm_status: UnsafePointer<CChar>] = {
        let table: [(aglm_status, String)] = [
            (AGLM_OK, "AGLM_OK"), (AGLM_ERR_INVALID_ARGUMENT, "AGLM_ERR_INVALID_ARGUMENT"),
            (AGLM_ERR_OUT_OF_MEMORY, "AGLM_ERR_OUT_OF_MEMORY"), (AGLM_ERR_UNSUPPORTED, "AGLM_ERR_UNSUPPORTED"),
            (AGLM_ERR_STATE, "AGLM_ERR_STATE"), (AGLM_ERR_NUMERIC, "AGLM_ERR_NUMERIC"), (AGLM_ERR_INTERNAL, "AGLM_ERR_INTERNAL"),
            (AGLM_ERR_VERSION, "AGLM_ERR_VERSION"), (AGLM_ERR_HANDLE, "AGLM_ERR_HANDLE"), (AGLM_ERR_BUSY, "AGLM_ERR_BUSY"),
            (AGLM_ERR_CONFIG, "AGLM_ERR_CONFIG"), (AGLM_ERR_PLUGIN, "AGLM_ERR_PLUGIN"),
            (AGLM_ERR_CHECKPOINT, "AGLM_ERR_CHECKPOINT"),
        ]
        return Dictionary(uniqueKeysWithValues: table.map { ($0.0, UnsafePointer(strdup($0.1)!)) })
    }()
    /// The name of a code no version defines.
    nonisolated(unsafe) private static let unknown: UnsafePointer<CChar> = UnsafePointer(strdup("AGLM_ERR_UNKNOWN")!)

    /// The name of `status`.
    static func name(_ status: aglm_status) -> UnsafePointer<CChar> { names[status] ?? unknown }
}
