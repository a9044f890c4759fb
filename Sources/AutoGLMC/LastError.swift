import Foundation

/// The calling thread's last error message, as `aglm_last_error()` returns it (libgit2's rule):
/// a C string owned by the thread, replaced by the next failure on the same thread and freed
/// when the thread ends.
enum LastError {
    /// The thread's message (a `strdup`ed string), freed by the key's destructor at thread exit.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    /// What a thread without a failure reads.
    nonisolated(unsafe) private static let none: UnsafePointer<CChar> = UnsafePointer(strdup("")!)

    /// Makes `message` the calling thread's last error.
    static func set(_ message: String) {
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, strdup(message))
        free(previous)
    }

    /// The calling thread's last error ("" if it has none), valid until its next failure.
    static var current: UnsafePointer<CChar> {
        guard let message = pthread_getspecific(key) else { return none }
        return UnsafePointer(message.assumingMemoryBound(to: CChar.self))
    }
}
