import Foundation

/// `run.json` of a run directory: what the run is and how it stands, rewritten atomically at the
/// start, at every checkpoint and at the end. `autoglm runs`, `sample` and `--resume` read it.
public struct RunRecord: Codable, Sendable, Equatable {
    /// How a run stands.
    public enum Status: String, Codable, Sendable {
        /// A process is training it (or died without a word: see `RunDirectory.status`).
        case running
        /// It reached `train.steps`.
        case finished
        /// It ended before `train.steps`: a callback, the program or a signal stopped it.
        case stopped
        /// An error ended it (`error` says which); its last checkpoint holds the last good state.
        case failed
        /// It was `running` but no process holds its lock: the process died (a crash or a kill).
        case crashed
    }

    /// The best checkpoint by the configured metric.
    public struct Best: Codable, Sendable, Equatable {
        /// The metric (`checkpoint.best_metric`).
        public var metric: String
        /// Its value at that checkpoint.
        public var value: Double
        /// The step of the checkpoint.
        public var step: Int
        /// The checkpoint directory, relative to the run directory.
        public var checkpoint: String
    }

    /// Always `autoglm-run`.
    public var format = "autoglm-run"
    /// Version of this layout (1).
    public var version = 1
    /// How the run stands.
    public var status: Status
    /// Optimizer steps completed.
    public var step: Int
    /// `train.steps`.
    public var maxSteps: Int
    /// The attention component.
    public var attention: String
    /// The optimizer.
    public var optimizer: String
    /// The latest checkpoint directory, relative to the run directory (nil: none yet).
    public var latest: String?
    /// The best checkpoint (nil: none evaluated yet, or best tracking is off).
    public var best: Best?
    /// Every checkpoint directory kept, oldest first, relative to the run directory.
    public var checkpoints: [String] = []
    /// Latest evaluation metrics.
    public var metrics: [Metric] = []
    /// Training tokens per second over the run so far.
    public var tokensPerSecond: Double = 0
    /// Wall time of training and evaluation so far.
    public var seconds: Double = 0
    /// Plugin directories the run searched (so `sample` can say where to find a missing one).
    public var pluginPaths: [String]
    /// When the run started (ISO 8601, UTC).
    public var startedAt: String
    /// When this record was written (ISO 8601, UTC).
    public var updatedAt: String
    /// The host that wrote it.
    public var hostVersion = HostInfo.version
    /// The process training it.
    public var pid: Int32
    /// Why it failed (for `failed`).
    public var error: String?
    /// issue #18: the kernel path the run trains on (`run.isa` resolved: "avx512", ...); absent
    /// in records written before it was recorded.
    public var isa: String? = nil

    /// JSON keys, snake_case like the run log.
    enum CodingKeys: String, CodingKey {
        case format, version, status, step, attention, optimizer, latest, best, checkpoints, metrics, seconds, pid, error, isa
        case maxSteps = "max_steps", tokensPerSecond = "tokens_per_s", pluginPaths = "plugin_paths"
        case startedAt = "started_at", updatedAt = "updated_at", hostVersion = "host_version"
    }

    /// Now, as written in the record.
    static func timestamp(_ date: Date = Date()) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
