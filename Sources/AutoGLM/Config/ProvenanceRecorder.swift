import Configuration
import Foundation

/// An `AccessReporter` that keeps the latest access event per key, so the loader can tell which
/// provider (layer) supplied each value it read, or which one failed.
final class ProvenanceRecorder: AccessReporter, @unchecked Sendable {
    private let lock = NSLock()
    private var latest: [String: AccessEvent] = [:]

    /// Records the event under its dotted key.
    func report(_ event: AccessEvent) {
        let key = event.metadata.key.components.joined(separator: ".")
        lock.withLock { latest[key] = event }
    }

    /// The latest event for a dotted key.
    func event(forKey key: String) -> AccessEvent? {
        lock.withLock { latest[key] }
    }
}
