import Foundation
import GRDB

/// A study as read back for `autoglm search show`: its settings and every trial with its
/// parameters as text, values, intermediate values and timings. Reads a study other searches
/// may be writing (WAL: it sees the last committed state).
public struct StudySnapshot: Sendable {
    /// One trial.
    public struct Trial: Sendable {
        /// Number, state and values as samplers see them.
        public var record: TrialRecord
        /// Parameters as `key=value` text, in the order they were proposed.
        public var parameters: [(key: String, value: String)]
        /// The run directory.
        public var runDirectory: String
        /// When it started and finished (seconds since 1970).
        public var started: Double?, finished: Double?
        /// Training and evaluation seconds its log reports.
        public var trainSeconds: Double?
        /// Why it failed.
        public var error: String?
        /// Runs (1, or more when it was interrupted and run again).
        public var attempts: Int
        /// The search process that ran it last (`HOST/PID/START`).
        public var owner: String?
        /// Its `autoglm train` process while it runs.
        public var childPID: Int32?

        /// Wall time of the (last) run.
        public var seconds: Double? { finished.flatMap { f in started.map { f - $0 } } }
        /// Wall time beyond training and evaluation: process start, plugins, data, proposing,
        /// the database.
        public var overheadSeconds: Double? { seconds.flatMap { s in trainSeconds.map { s - $0 } } }
    }

    /// The study file.
    public let path: String
    /// Its settings.
    public let settings: StudySettings
    /// Its trials, by number.
    public let trials: [Trial]

    /// Reads the study at `path`.
    /// - Throws: `ConfigError` naming the file when it is not a study.
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError(origin: path, message: "no such study file (autoglm search --study FILE creates one)")
        }
        let database = try StudyDatabase(path: path, readOnly: true)
        self.path = path
        (settings, trials) = try database.queue.read { db -> (StudySettings, [Trial]) in
            guard let settings = try StudyDatabase.settings(db) else {
                throw ConfigError(origin: path, message: "the study has no settings yet (is a search creating it?)")
            }
            let records = Dictionary(uniqueKeysWithValues: try StudyDatabase.records(db).map { ($0.number, $0) })
            var texts: [Int: [(String, String)]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT trial, key, value FROM trial_param ORDER BY trial, rowid") {
                texts[row["trial"], default: []].append((row["key"], row["value"]))
            }
            let rows = try Row.fetchAll(db, sql: """
                SELECT number, run_dir, started_at, finished_at, train_seconds, error, attempts, owner, child_pid
                FROM trial ORDER BY number
                """)
            let trials = rows.map { row -> Trial in
                let number: Int = row["number"]
                return Trial(record: records[number]!, parameters: (texts[number] ?? []).map { (key: $0.0, value: $0.1) },
                             runDirectory: row["run_dir"], started: row["started_at"], finished: row["finished_at"],
                             trainSeconds: row["train_seconds"], error: row["error"], attempts: row["attempts"],
                             owner: row["owner"], childPID: row["child_pid"])
            }
            return (settings, trials)
        }
    }

    /// The complete trials.
    public var complete: [Trial] { trials.filter { $0.record.state == .complete && $0.record.values != nil } }

    /// The complete trial with the best first objective (ties: the earlier).
    public var best: Trial? {
        let objective = settings.objectives[0]
        return complete.min { a, b in
            (objective.loss(a.record.values![0]), a.record.number) < (objective.loss(b.record.values![0]), b.record.number)
        }
    }

    /// The complete trials nobody dominates (all objectives), by number.
    public var paretoFront: [Trial] {
        let trials = complete
        return ParetoRanking.paretoFront(trials.map(losses)).map { trials[$0] }
    }

    /// A trial's values in the minimisation convention.
    public func losses(_ trial: Trial) -> [Double] {
        zip(settings.objectives, trial.record.values ?? []).map { $0.loss($1) }
    }

    /// The default hypervolume reference, in objective units: each objective's worst value over
    /// the complete trials, moved a tenth of its range further (a tenth of its size when all
    /// trials agree), so that every complete trial counts.
    public var defaultReference: [Double]? {
        let points = complete.map(losses)
        guard !points.isEmpty else { return nil }
        return settings.objectives.indices.map { m in
            let column = points.map { $0[m] }
            let worst = column.max()!, best = column.min()!
            let margin = worst > best ? 0.1 * (worst - best) : max(abs(worst) * 0.1, 1e-12)
            let loss = worst + margin
            return settings.objectives[m].direction == .minimize ? loss : -loss
        }
    }

    /// The hypervolume of the complete trials against `reference` (objective units).
    public func hypervolume(reference: [Double]) -> Double {
        let r = zip(settings.objectives, reference).map { $0.loss($1) }
        return Hypervolume.compute(complete.map(losses), reference: r)
    }
}
