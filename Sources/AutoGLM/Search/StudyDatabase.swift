import Foundation
import GRDB

/// The SQLite file of a study, through GRDB: the schema, and reading and writing its rows.
/// Every write is an IMMEDIATE transaction, so the processes sharing a study take turns (SQLite's
/// file lock, waited for up to `busySeconds`); the database is in WAL mode, so `search show`
/// reads while searches write.
///
/// Tables: `study` (one row: the settings as JSON), `trial` (state, generation, owner, run
/// directory, timings, error), `trial_param` (each active parameter's text and internal value),
/// `trial_value` (objective values), `intermediate_value` (the first objective by step),
/// `trial_rung` (successive-halving rungs completed).
final class StudyDatabase: @unchecked Sendable {
    /// The connection (serialises this process's accesses).
    let queue: DatabaseQueue
    /// The file.
    let path: String
    /// How long a write waits for another process's transaction.
    static let busySeconds: TimeInterval = 60

    /// Opens (creating if needed) the study file at `path` and brings its schema up to date.
    /// - Throws: `ConfigError` naming the file when it cannot be opened or is not a study.
    init(path: String, readOnly: Bool = false) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busySeconds)
        configuration.journalMode = .wal
        configuration.readonly = readOnly
        configuration.foreignKeysEnabled = true
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            if !readOnly { try Self.migrator.migrate(queue) }
            if readOnly, try queue.read({ try !$0.tableExists("study") }) {
                throw ConfigError(origin: path, message: "not an AutoGLM study (no study table)")
            }
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(origin: path, message: "cannot open the study database: \(error)")
        }
    }

    /// The schema, as GRDB migrations (append new ones; never edit a shipped one).
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE study (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    created_at REAL NOT NULL,
                    settings TEXT NOT NULL
                );
                CREATE TABLE trial (
                    number INTEGER PRIMARY KEY,
                    state TEXT NOT NULL CHECK (state IN ('waiting', 'running', 'complete', 'pruned', 'failed')),
                    generation INTEGER,
                    owner TEXT,
                    child_pid INTEGER,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    run_dir TEXT NOT NULL,
                    proposed_at REAL NOT NULL,
                    started_at REAL,
                    finished_at REAL,
                    heartbeat_at REAL,
                    train_seconds REAL,
                    error TEXT
                );
                CREATE TABLE trial_param (
                    trial INTEGER NOT NULL REFERENCES trial(number) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    internal REAL NOT NULL,
                    PRIMARY KEY (trial, name)
                );
                CREATE TABLE trial_value (
                    trial INTEGER NOT NULL REFERENCES trial(number) ON DELETE CASCADE,
                    objective INTEGER NOT NULL,
                    value REAL,
                    PRIMARY KEY (trial, objective)
                );
                CREATE TABLE intermediate_value (
                    trial INTEGER NOT NULL REFERENCES trial(number) ON DELETE CASCADE,
                    step INTEGER NOT NULL,
                    value REAL,
                    PRIMARY KEY (trial, step)
                );
                CREATE TABLE trial_rung (
                    trial INTEGER NOT NULL REFERENCES trial(number) ON DELETE CASCADE,
                    rung INTEGER NOT NULL,
                    value REAL NOT NULL,
                    PRIMARY KEY (trial, rung)
                );
                """)
        }
        return migrator
    }

    /// The stored settings (nil for a new study).
    static func settings(_ db: Database) throws -> StudySettings? {
        guard let text = try String.fetchOne(db, sql: "SELECT settings FROM study WHERE id = 1") else { return nil }
        return try JSONDecoder().decode(StudySettings.self, from: Data(text.utf8))
    }

    /// Stores the settings of a new study.
    static func create(_ db: Database, settings: StudySettings) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(settings), as: UTF8.self)
        try db.execute(sql: "INSERT INTO study (id, created_at, settings) VALUES (1, ?, ?)",
                       arguments: [Date().timeIntervalSince1970, text])
    }

    /// Every trial with its parameters, values, intermediate values and rungs, by number.
    static func records(_ db: Database) throws -> [TrialRecord] {
        var trials: [Int: TrialRecord] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT number, state, generation FROM trial ORDER BY number") {
            let number: Int = row["number"]
            trials[number] = TrialRecord(number: number, state: TrialState(rawValue: row["state"]) ?? .failed,
                                         parameters: [:], generation: row["generation"])
        }
        for row in try Row.fetchAll(db, sql: "SELECT trial, name, internal FROM trial_param") {
            trials[row["trial"]]?.parameters[row["name"]] = row["internal"]
        }
        for row in try Row.fetchAll(db, sql: "SELECT trial, objective, value FROM trial_value ORDER BY trial, objective") {
            let number: Int = row["trial"], value: Double? = row["value"]
            let previous = trials[number]?.values ?? []
            trials[number]?.values = previous + [value ?? .nan]
        }
        for row in try Row.fetchAll(db, sql: "SELECT trial, step, value FROM intermediate_value") {
            let value: Double? = row["value"]
            trials[row["trial"]]?.intermediate[row["step"]] = value ?? .nan
        }
        for row in try Row.fetchAll(db, sql: "SELECT trial, rung, value FROM trial_rung") {
            trials[row["trial"]]?.rungs[row["rung"]] = row["value"]
        }
        return trials.keys.sorted().map { trials[$0]! }
    }
}
