import AutoGLM
import CAutoGLM
import Foundation

/// The live session handles. A handle is a number the library issued, in a range no pointer of
/// the process uses, never the address of an object: a handle is looked up here before anything
/// is touched, so NULL, a freed handle or a stray pointer is refused and never dereferenced.
/// Numbers are not reused, so a freed handle stays invalid.
enum SessionHandles {
    /// The first handle (non-canonical on x86-64 and arm64: no valid pointer has this value).
    private static let base: UInt = 0xA61D_0000_0000_0000
    /// Guards `live` and `issued`.
    private static let lock = NSLock()
    /// Sessions by handle.
    nonisolated(unsafe) private static var live: [UInt: SessionBox] = [:]
    /// Handles issued so far.
    nonisolated(unsafe) private static var issued: UInt = 0

    /// A new handle for `box`.
    static func issue(_ box: SessionBox) -> OpaquePointer {
        lock.withLock {
            issued += 1
            let handle = base + issued << 4
            live[handle] = box
            return OpaquePointer(bitPattern: handle)!
        }
    }

    /// The session behind `handle`.
    /// - Throws: `APIError` (AGLM_ERR_HANDLE) for NULL, a freed handle or any other value.
    static func box(_ handle: OpaquePointer?) throws -> SessionBox {
        guard let handle else { throw APIError(AGLM_ERR_HANDLE, "session is NULL: pass the handle aglm_session_create returned") }
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(handle)))
        guard let box = lock.withLock({ live[key] }) else {
            throw APIError(AGLM_ERR_HANDLE, "\(UnsafeRawPointer(handle)) is not a live session: it was freed, or never returned by aglm_session_create")
        }
        return box
    }

    /// Withdraws `handle` (so every later use of it is refused).
    static func withdraw(_ handle: OpaquePointer?) {
        guard let handle else { return }
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(handle)))
        _ = lock.withLock { live.removeValue(forKey: key) }
    }
}
