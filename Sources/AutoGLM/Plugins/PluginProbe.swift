import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Loads a plugin file in a child process (`autoglm plugins probe FILE`) before the host loads it
/// itself, so a library that crashes or hangs in its entry point or `init` is reported with its
/// file instead of taking down the command that scans its folder. A file that loaded fine once is
/// not probed again while it stays the same (same size, modification time, inode and host
/// version): the good verdicts are kept in `~/.cache/autoglm/plugin-probes.json`. The bundled
/// plugins, built with the host, are not probed. Without an `autoglm` executable to run (an
/// embedding program whose installation lacks it) files are loaded in-process as before.
public enum PluginProbe {
    /// How long a probe may take before the plugin counts as hanging.
    static let timeout: TimeInterval = 30

    /// The probe itself, run by the child (`autoglm plugins probe FILE`): loads `path` in this
    /// process and returns the exit status, 0 when it loaded, 1 when it was refused (a crash or
    /// a hang is the parent's finding).
    public static func probe(path: String) -> Int32 {
        (try? LibraryLoader.load(path: path)) == nil ? 1 : 0
    }

    /// Why `path` must not be loaded in this process (it crashed or hung in a child), or nil.
    static func problem(loading path: String) -> String? {
        if let bundled = PluginSearchPath.bundledDirectory, path.hasPrefix(bundled + "/") { return nil }
        guard let executable = executable else { return nil }
        guard let identity = FileIdentity(path: path) else { return nil }  // the loader reports a missing file
        if cache.isKnownGood(identity) { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["plugins", "probe", path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"  // a crash is expected to be possible: report it, not a backtrace
        process.environment = environment
        do { try process.run() } catch { return nil }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(2_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return "hangs in its entry point or init (no answer within \(Int(timeout)) s in a test process): the plugin is broken; fix it or remove it from the plugin search path"
        }
        if process.terminationReason == .uncaughtSignal {
            let signal = process.terminationStatus
            return "crashed in its entry point or init (signal \(signal), \(signalName(signal))) when loaded in a test process, so it is not loaded: the plugin is broken; fix it (run `autoglm plugins validate \(path)`) or remove it from the plugin search path"
        }
        if process.terminationStatus == 0 { cache.remember(identity) }
        return nil  // a load that fails without crashing fails the same way, safely, in-process
    }

    /// The `autoglm` executable that runs probes: this one, or the one installed beside the
    /// bundled plugins (`bin/autoglm` of the prefix, or the build folder).
    static let executable: String? = {
        let fm = FileManager.default
        var candidates: [String] = []
        if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe"), (exe as NSString).lastPathComponent == "autoglm" {
            candidates.append(exe)
        }
        if let bundled = PluginSearchPath.bundledDirectory {
            candidates.append((bundled as NSString).appendingPathComponent("autoglm"))
            candidates.append(((bundled as NSString).appendingPathComponent("../../../bin/autoglm") as NSString).standardizingPath)
        }
        return candidates.first { fm.isExecutableFile(atPath: $0) }
    }()

    /// The good verdicts on disk.
    private static let cache = ProbeCache()

    /// A signal's name.
    private static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGSEGV: return "SIGSEGV"
        case SIGABRT: return "SIGABRT"
        case SIGBUS: return "SIGBUS"
        case SIGILL: return "SIGILL"
        case SIGFPE: return "SIGFPE"
        case SIGKILL: return "SIGKILL"
        default: return "signal \(signal)"
        }
    }
}

/// What identifies one version of a file: path, size, modification time and inode.
struct FileIdentity: Hashable, Codable {
    var path: String
    var size: Int64
    var modified: Int64
    var inode: UInt64

    /// The identity of the file at `path` now (nil when it cannot be read).
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.path = path
        size = Int64(info.st_size)
        modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        inode = UInt64(info.st_ino)
    }
}

/// Plugin files that loaded fine in a child process, kept across runs in
/// `~/.cache/autoglm/plugin-probes.json` (by host version; a damaged cache is ignored).
private final class ProbeCache: @unchecked Sendable {
    private let lock = NSLock()
    private let url: URL? = {
        guard let home = ProcessInfo.processInfo.environment["HOME"] else { return nil }
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/autoglm/plugin-probes.json")
    }()
    private lazy var good: Set<FileIdentity> = {
        guard let url, let data = try? Data(contentsOf: url),
              let saved = try? JSONDecoder().decode([String: [FileIdentity]].self, from: data) else { return [] }
        return Set(saved[HostInfo.version] ?? [])
    }()

    /// Whether `identity` loaded fine before.
    func isKnownGood(_ identity: FileIdentity) -> Bool { lock.withLock { good.contains(identity) } }

    /// Records that `identity` loaded fine (best effort: a cache that cannot be written only
    /// costs a probe next time).
    func remember(_ identity: FileIdentity) {
        lock.withLock {
            good = good.filter { $0.path != identity.path }
            good.insert(identity)
            guard let url else { return }
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if let data = try? JSONEncoder().encode([HostInfo.version: Array(good)]) { try? AtomicFile.write(data, to: url) }
        }
    }
}
