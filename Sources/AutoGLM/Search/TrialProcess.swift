import CProcess
import Foundation

/// A trial's `autoglm train` child process: started in its own process group with its output
/// in a file, reaped with `wait4` for its exit and peak memory, stopped with SIGTERM. The thread
/// that starts it must outlive it: the child gets SIGTERM when that thread's process dies
/// (PR_SET_PDEATHSIG), so a killed search leaves no training behind.
final class TrialProcess {
    /// How a child ended.
    struct Exit: Sendable, Equatable, CustomStringConvertible {
        /// The exit status, or nil when a signal ended it.
        let status: Int32?
        /// The signal that ended it.
        let signal: Int32?
        /// Peak resident set size in bytes (`ru_maxrss`).
        let peakResidentBytes: Int

        /// Whether it exited with status 0.
        var succeeded: Bool { status == 0 }

        /// "exited with status 1", "killed by signal 15 (Terminated)".
        var description: String {
            if let status { return "exited with status \(status)" }
            let name = signal.flatMap { strsignal($0) }.map { String(cString: $0) } ?? "?"
            return "killed by signal \(signal ?? 0) (\(name))"
        }
    }

    /// The child's pid (and process group).
    let pid: pid_t
    /// Set once reaped.
    private(set) var exit: Exit?

    /// Starts `executable` with `arguments`, `environment`, and standard output and error
    /// appended to `outputPath`.
    /// - Throws: `SearchError` when the output file cannot be opened or the program cannot start.
    init(executable: String, arguments: [String], environment: [String: String], outputPath: String) throws {
        let fd = open(outputPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SearchError("cannot open \(outputPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let err = aglm_spawn(executable, argv, envp, fd, &child)
        guard err == 0 else {
            throw SearchError("cannot start \(executable): \(String(cString: strerror(err)))")
        }
        pid = child
    }

    /// The exit, if the child has ended (reaping it); nil while it runs.
    func poll() -> Exit? {
        if let exit { return exit }
        return reap(options: WNOHANG)
    }

    /// Waits for the child to end.
    func wait() -> Exit {
        if let exit { return exit }
        while true {
            if let done = reap(options: 0) { return done }
        }
    }

    /// Sends SIGTERM to the child's process group, then SIGKILL if it has not ended after
    /// `grace` seconds; returns its exit.
    @discardableResult
    func terminate(grace: TimeInterval = 10) -> Exit {
        if let exit { return exit }
        kill(-pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline {
            if let done = poll() { return done }
            usleep(20_000)
        }
        kill(-pid, SIGKILL)
        return wait()
    }

    /// One `wait4` call; the exit when the child has ended.
    private func reap(options: Int32) -> Exit? {
        var status: Int32 = 0
        var usage = rusage()
        let result = wait4(pid, &status, options, &usage)
        if result == 0 || (result < 0 && errno == EINTR) { return nil }
        guard result == pid else {  // ECHILD: nothing to wait for (cannot happen for our own child)
            exit = Exit(status: -1, signal: nil, peakResidentBytes: 0)
            return exit
        }
        let signal = status & 0x7f
        exit = Exit(status: signal == 0 ? (status >> 8) & 0xff : nil, signal: signal == 0 ? nil : signal,
                    peakResidentBytes: Int(usage.ru_maxrss) * 1024)
        return exit
    }
}

/// A search that cannot go on, with the reason and the fix.
public struct SearchError: Error, CustomStringConvertible, Sendable {
    /// What is wrong.
    public let message: String
    /// The message.
    public var description: String { message }

    /// An error with `message`.
    public init(_ message: String) { self.message = message }
}
