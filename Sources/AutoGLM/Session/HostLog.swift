import Foundation
import Logging

/// Where the host's and the plugins' log lines go: to the sink of the session running on the
/// calling thread (a C program's log callback, for instance), else to swift-log
/// (`autoglm.plugin`, standard error by default).
public enum HostLog {
    /// Severity (mirrors `aglm_log_level`).
    public enum Level: Int32, Sendable {
        /// Detail for developers.
        case debug = 0
        /// Normal progress.
        case info = 1
        /// Something odd; training goes on.
        case warning = 2
        /// Something failed.
        case error = 3
    }

    /// Receives one line.
    public typealias Sink = @Sendable (Level, String) -> Void

    /// The fallback logger.
    static let logger = Logger(label: "autoglm.plugin")

    /// The sink of the session running on this thread.
    private static let current = ThreadLocal<SinkBox>()

    /// Sends a line to the current sink.
    static func emit(_ level: Level, _ message: String) {
        if let box = current.value {
            box.sink(level, message)
            return
        }
        switch level {
        case .debug: logger.debug("\(message)")
        case .info: logger.info("\(message)")
        case .warning: logger.warning("\(message)")
        case .error: logger.error("\(message)")
        }
    }

    /// Runs `body` with `sink` (nil: swift-log) receiving the lines logged on this thread.
    static func with<T>(_ sink: Sink?, _ body: () throws -> T) rethrows -> T {
        let previous = current.value
        current.value = sink.map(SinkBox.init)
        defer { current.value = previous }
        return try body()
    }

    /// A sink as an object (thread-local slots hold objects).
    private final class SinkBox {
        let sink: Sink
        init(_ sink: @escaping Sink) { self.sink = sink }
    }
}

/// One object per thread (a `pthread` key), retained while set.
final class ThreadLocal<Value: AnyObject>: @unchecked Sendable {
    private var key = pthread_key_t()

    /// A new, empty slot.
    init() {
        pthread_key_create(&key) { pointer in
            if let pointer { Unmanaged<AnyObject>.fromOpaque(pointer).release() }
        }
    }

    /// This thread's value.
    var value: Value? {
        get {
            guard let pointer = pthread_getspecific(key) else { return nil }
            return Unmanaged<AnyObject>.fromOpaque(pointer).takeUnretainedValue() as? Value
        }
        set {
            if let old = pthread_getspecific(key) { Unmanaged<AnyObject>.fromOpaque(old).release() }
            pthread_setspecific(key, newValue.map { Unmanaged<AnyObject>.passRetained($0).toOpaque() })
        }
    }
}
