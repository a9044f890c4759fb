import Foundation

/// Names the `autoglm search` process that runs a trial — host, pid and the process's start
/// time (so a reused pid is not taken for the dead process) — and tells whether such a process
/// is still alive. A trial whose owner is gone was interrupted and is run again.
public struct SearchProcessIdentity: Sendable, Equatable, CustomStringConvertible {
    /// The machine's host name.
    public let host: String
    /// The process id.
    public let pid: Int32
    /// The process's start time in clock ticks since boot (field 22 of /proc/PID/stat).
    public let startTicks: UInt64

    /// This process.
    public static let current = SearchProcessIdentity(
        host: ProcessInfo.processInfo.hostName, pid: getpid(), startTicks: startTicks(of: getpid()) ?? 0)

    /// An identity.
    public init(host: String, pid: Int32, startTicks: UInt64) {
        self.host = host; self.pid = pid; self.startTicks = startTicks
    }

    /// `HOST/PID/START`, as stored in the study.
    public var description: String { "\(host)/\(pid)/\(startTicks)" }

    /// Parses `HOST/PID/START`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]), let start = UInt64(parts[parts.count - 1]) else {
            return nil
        }
        self.init(host: parts.dropLast(2).joined(separator: "/"), pid: pid, startTicks: start)
    }

    /// Whether the process is running: known on this host (its /proc entry with the same start
    /// time); nil on another host, where only the trial's heartbeat can tell.
    public var isAlive: Bool? {
        guard host == Self.current.host else { return nil }
        return Self.startTicks(of: pid) == startTicks
    }

    /// The start time of process `pid` (nil if there is none).
    static func startTicks(of pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces) start with field 3, the state.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }
}
