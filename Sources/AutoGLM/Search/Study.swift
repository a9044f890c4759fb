import Foundation
import GRDB

/// A trial handed to a process to run.
public struct TrialTicket: Sendable, Equatable {
    /// The trial's number.
    public let number: Int
    /// Internal values of its active parameters, by name.
    public let parameters: [String: Double]
    /// Its `--set key=value` options.
    public let overrides: [String]
    /// Its run directory.
    public let runDirectory: String
    /// 1 for a first run, more when an interrupted trial is run again.
    public let attempt: Int
}

/// How a trial ended.
public enum TrialOutcome: Sendable, Equatable {
    /// Finished with these objective values (in the study's objective order).
    case complete([Double])
    /// Stopped by the pruner (its last intermediate value is kept).
    case pruned
    /// Failed, with why.
    case failed(String)
}

/// A study: its settings, its space and the trials in its database, shared by every process
/// that opens the same file. Proposing a trial, recording a report and finishing a trial are
/// each one transaction, so two processes never propose the same trial.
///
/// A trial left `running` by a process that died (or `waiting`, by one that was interrupted)
/// is run again with its parameters, under its number, by the next process that asks: the
/// search keeps every trial it proposed and runs each to an end once.
public final class Study: @unchecked Sendable {
    /// The settings the study was created with.
    public let settings: StudySettings
    /// The space its trials are drawn from.
    public let space: SearchSpace
    /// Where trial run directories go (`TRIALS/0007`).
    public let trialsDirectory: String
    /// The database.
    let database: StudyDatabase
    /// Proposes new trials.
    let sampler: any SearchSampler
    /// Stops poor trials early (nil: never).
    let pruner: (any TrialPruner)?
    /// A trial owned by a process on another host is taken for abandoned once its heartbeat
    /// is this old.
    public var staleAfter: TimeInterval = 300

    /// Opens the study at `path`, creating it with `settings` if new; an existing study must
    /// have the same settings.
    /// - Throws: `ConfigError` naming the study file and the setting that differs.
    public init(path: String, settings: StudySettings, space: SearchSpace) throws {
        database = try StudyDatabase(path: path)
        let stored = try database.queue.write { db -> StudySettings in
            if let stored = try StudyDatabase.settings(db) { return stored }
            try StudyDatabase.create(db, settings: settings)
            return settings
        }
        if let difference = stored.difference(from: settings) {
            throw ConfigError(origin: path, message: "this study was made by another search command: it differs in "
                              + difference + "; run the study's own command again to continue it, or use a new --study file")
        }
        self.settings = stored
        self.space = space
        trialsDirectory = Self.trialsDirectory(forStudy: path)
        sampler = try stored.sampler.make(objectives: stored.objectives, seed: stored.seed, population: stored.population)
        pruner = stored.pruner.make()
    }

    /// `runs/search.db` → `runs/search-trials`.
    public static func trialsDirectory(forStudy path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let stem = url.deletingPathExtension().lastPathComponent
        return url.deletingLastPathComponent().appendingPathComponent(stem + "-trials").path
    }

    /// Every trial, by number.
    public func records() throws -> [TrialRecord] { try database.queue.read { try StudyDatabase.records($0) } }

    /// The next trial for `owner` to run: an abandoned one again (its owner dead, or its
    /// heartbeat stale), else a new proposal while the study has fewer than `budget` trials; nil
    /// when there is nothing left to run. One IMMEDIATE transaction.
    public func ask(owner: SearchProcessIdentity, budget: Int) throws -> TrialTicket? {
        try database.queue.write { db -> TrialTicket? in
            let now = Date().timeIntervalSince1970
            if let number = try abandonedTrial(db, now: now) {
                try db.execute(sql: "DELETE FROM intermediate_value WHERE trial = ?", arguments: [number])
                try db.execute(sql: "DELETE FROM trial_rung WHERE trial = ?", arguments: [number])
                try db.execute(sql: """
                    UPDATE trial SET state = 'running', owner = ?, child_pid = NULL, attempts = attempts + 1,
                    started_at = ?, heartbeat_at = ?, finished_at = NULL, error = NULL WHERE number = ?
                    """, arguments: [owner.description, now, now, number])
                return try ticket(db, number)
            }
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM trial") ?? 0
            guard count < budget else { return nil }
            let history = try StudyDatabase.records(db)
            let number = (history.map(\.number).max() ?? -1) + 1
            let proposal = sampler.propose(number: number, space: space, history: history)
            let runDirectory = (trialsDirectory as NSString).appendingPathComponent(String(format: "%04d", number))
            try db.execute(sql: """
                INSERT INTO trial (number, state, generation, owner, attempts, run_dir, proposed_at, started_at, heartbeat_at)
                VALUES (?, 'running', ?, ?, 1, ?, ?, ?, ?)
                """, arguments: [number, proposal.generation, owner.description, runDirectory, now, now, now])
            for p in space.parameters {
                guard let value = proposal.parameters[p.name] else { continue }
                try db.execute(sql: "INSERT INTO trial_param (trial, name, key, value, internal) VALUES (?, ?, ?, ?, ?)",
                               arguments: [number, p.name, p.key, p.distribution.text(value), value])
            }
            return try ticket(db, number)
        }
    }

    /// The lowest-numbered trial to run again: waiting, or running for an owner that is gone.
    private func abandonedTrial(_ db: Database, now: TimeInterval) throws -> Int? {
        let rows = try Row.fetchAll(db, sql: """
            SELECT number, state, owner, heartbeat_at FROM trial WHERE state IN ('waiting', 'running') ORDER BY number
            """)
        for row in rows {
            let state: String = row["state"]
            if state == TrialState.waiting.rawValue { return row["number"] }
            guard let owner = (row["owner"] as String?).flatMap(SearchProcessIdentity.init) else { return row["number"] }
            let heartbeat: Double = row["heartbeat_at"] ?? 0
            switch owner.isAlive {
            case false?: return row["number"]
            case nil where now - heartbeat > staleAfter: return row["number"]
            default: continue
            }
        }
        return nil
    }

    /// The ticket of trial `number` as stored.
    private func ticket(_ db: Database, _ number: Int) throws -> TrialTicket {
        let row = try Row.fetchOne(db, sql: "SELECT run_dir, attempts FROM trial WHERE number = ?", arguments: [number])!
        var parameters: [String: Double] = [:]
        for p in try Row.fetchAll(db, sql: "SELECT name, internal FROM trial_param WHERE trial = ?", arguments: [number]) {
            parameters[p["name"]] = p["internal"]
        }
        return TrialTicket(number: number, parameters: parameters, overrides: space.overrides(parameters),
                           runDirectory: row["run_dir"], attempt: row["attempts"])
    }

    /// Records the child process running trial `number` (for `search show` and for stopping it).
    public func started(_ number: Int, childPID: Int32) throws {
        try database.queue.write { db in
            try db.execute(sql: "UPDATE trial SET child_pid = ? WHERE number = ?", arguments: [Int(childPID), number])
        }
    }

    /// Records trial `number`'s first-objective value at `step` and asks the pruner; true when
    /// the trial should stop. One transaction, so the pruner sees every report recorded before.
    public func report(_ number: Int, step: Int, value: Double) throws -> Bool {
        try database.queue.write { db -> Bool in
            try db.execute(sql: "INSERT OR REPLACE INTO intermediate_value (trial, step, value) VALUES (?, ?, ?)",
                           arguments: [number, step, value.isNaN ? nil : value])
            guard let pruner else { return false }
            let all = try StudyDatabase.records(db)
            guard let trial = all.first(where: { $0.number == number }) else { return false }
            let decision = pruner.decide(trial, others: all.filter { $0.number != number },
                                         direction: settings.objectives[0].direction)
            for (rung, rungValue) in decision.completedRungs {
                try db.execute(sql: "INSERT OR REPLACE INTO trial_rung (trial, rung, value) VALUES (?, ?, ?)",
                               arguments: [number, rung, rungValue])
            }
            return decision.prune
        }
    }

    /// Records how trial `number` ended and how long its training and evaluation took.
    public func finish(_ number: Int, _ outcome: TrialOutcome, trainSeconds: Double?) throws {
        try database.queue.write { db in
            let state: TrialState, error: String?
            switch outcome {
            case .complete(let values):
                (state, error) = (.complete, nil)
                for (i, v) in values.enumerated() {
                    try db.execute(sql: "INSERT OR REPLACE INTO trial_value (trial, objective, value) VALUES (?, ?, ?)",
                                   arguments: [number, i, v])
                }
            case .pruned: (state, error) = (.pruned, nil)
            case .failed(let why): (state, error) = (.failed, why)
            }
            try db.execute(sql: """
                UPDATE trial SET state = ?, finished_at = ?, train_seconds = ?, error = ?, child_pid = NULL WHERE number = ?
                """, arguments: [state.rawValue, Date().timeIntervalSince1970, trainSeconds, error, number])
        }
    }

    /// Marks the trials `owner` is running as alive now.
    public func heartbeat(owner: SearchProcessIdentity) throws {
        try database.queue.write { db in
            try db.execute(sql: "UPDATE trial SET heartbeat_at = ? WHERE state = 'running' AND owner = ?",
                           arguments: [Date().timeIntervalSince1970, owner.description])
        }
    }

    /// Hands trial `number` back (an interrupted search): waiting, to be run again by the next
    /// search with its parameters.
    public func release(_ number: Int) throws {
        try database.queue.write { db in
            try db.execute(sql: """
                UPDATE trial SET state = 'waiting', owner = NULL, child_pid = NULL WHERE number = ? AND state = 'running'
                """, arguments: [number])
        }
    }
}
