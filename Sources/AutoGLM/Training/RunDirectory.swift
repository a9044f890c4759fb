import AutoGLMCore
import Foundation

/// A run's folder, owned by one training at a time:
///
///     log.jsonl              first record the resolved config, then one record per logged step,
///                            evaluation and resume (append-only; a resume drops what came after
///                            its checkpoint)
///     run.json               RunRecord: status, step, latest and best checkpoint
///     tokenizer.json         the run's vocabulary
///     checkpoints/step-N/    Checkpoint: the whole training state at step N (the last
///                            `checkpoint.keep_last`, plus the best)
///     .lock                  held while a process trains it
public final class RunDirectory {
    /// How a session opens its run directory.
    public enum Mode: Sendable, Equatable {
        /// A new run: the folder must not hold a previous run, unless `overwrite`, which deletes
        /// the previous run's files first.
        case create(overwrite: Bool)
        /// Continuing from the checkpoint at `step`: the log keeps what came before it.
        case resume(step: Int)
        /// Read only (sampling a trained run): no lock, nothing written.
        case readOnly
    }

    /// The folder.
    public let url: URL
    /// The run's record, as last written.
    private(set) var record: RunRecord
    /// Holds the folder while training (nil when read-only).
    private let lock: RunLock?
    /// log.jsonl, open for appending (nil when read-only).
    private let log: FileHandle?

    /// The subfolder of the checkpoints.
    static let checkpointsFolder = "checkpoints"

    /// Opens `path` for a run described by `record` (its status is set to running).
    /// - Throws: `DataError` for a folder that cannot be created or written, one another process
    ///   trains, or (creating) one that holds a previous run.
    init(path: String, mode: Mode, record: RunRecord) throws {
        let url = URL(fileURLWithPath: path, isDirectory: true)
        self.url = url
        self.record = record
        let fm = FileManager.default
        if mode == .readOnly {
            lock = nil
            log = nil
            return
        }
        do {
            try fm.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw DataError(message: "run.dir: cannot create '\(path)': \(error.localizedDescription)")
        }
        lock = try RunLock(directory: url)
        let logURL = url.appendingPathComponent("log.jsonl")
        switch mode {
        case .create(let overwrite):
            let previous = ["log.jsonl", "run.json", Self.checkpointsFolder].filter {
                fm.fileExists(atPath: url.appendingPathComponent($0).path)
            }
            if !previous.isEmpty {
                guard overwrite else {
                    throw DataError(message: "run.dir: '\(path)' holds a previous run (\(previous.joined(separator: ", "))): continue it with `autoglm train --resume \(path)`, choose another run.dir, or pass --overwrite to replace it")
                }
                try Self.removePreviousRun(in: url)
            }
            guard fm.createFile(atPath: logURL.path, contents: nil) else {
                throw DataError(message: "run.dir: cannot write '\(logURL.path)'; choose a writable run.dir")
            }
        case .resume(let step):
            try Self.truncateLog(at: logURL, after: step)
            if let previous = try? Self.readRecord(url) { self.record = Self.continuing(previous, with: record, at: step, in: url) }
        case .readOnly:
            break
        }
        do {
            let handle = try FileHandle(forWritingTo: logURL)
            try handle.seekToEnd()
            log = handle
        } catch {
            throw DataError(message: "run.dir: cannot append to '\(logURL.path)': \(error.localizedDescription)")
        }
        try update { $0.status = .running }
    }

    deinit { try? log?.close() }

    /// The record of a run continued from its checkpoint at `step`: the previous record's history
    /// (start, checkpoints up to `step`, best among them) with the new process's facts. Checkpoints
    /// after `step` belong to a future that will not happen and are deleted.
    private static func continuing(_ previous: RunRecord, with fresh: RunRecord, at step: Int, in url: URL) -> RunRecord {
        var record = fresh
        record.startedAt = previous.startedAt
        record.step = step
        func stepOf(_ name: String) -> Int { Int(name.split(separator: "-").last ?? "") ?? 0 }
        for name in previous.checkpoints where stepOf(name) > step {
            try? FileManager.default.removeItem(at: url.appendingPathComponent(name))
        }
        record.checkpoints = previous.checkpoints.filter { stepOf($0) <= step }
        record.latest = record.checkpoints.last
        record.best = previous.best.flatMap { $0.step <= step ? $0 : nil }
        record.metrics = previous.metrics
        return record
    }

    /// Deletes a previous run's files (everything in the folder but the lock).
    private static func removePreviousRun(in url: URL) throws {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: url.path)) ?? [] where name != ".lock" {
            do {
                try fm.removeItem(at: url.appendingPathComponent(name))
            } catch {
                throw DataError(message: "run.dir: cannot remove the previous run's '\(name)' from '\(url.path)': \(error.localizedDescription)")
            }
        }
    }

    /// Keeps the records of log.jsonl up to `step` (the config record, steps, evaluations and
    /// resumes at or before it), dropping a partial last line, atomically.
    private static func truncateLog(at url: URL, after step: Int) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw DataError(message: "\(url.path): missing; a run directory being resumed keeps its log (copy the checkpoint into a new run.dir instead)")
        }
        var kept: [Substring] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            if let recordStep = object["step"] as? Int, object["kind"] != nil, recordStep > step { continue }
            kept.append(line)
        }
        try AtomicFile.write(Data((kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).utf8), to: url)
    }

    /// Appends one JSON object (already serialised, no newline) to log.jsonl.
    func appendLog(json: String) {
        log?.write(Data((json + "\n").utf8))
    }

    /// Appends a record built from `fields` (numbers, strings, nested maps), keys sorted, NaN as null.
    func appendLog(_ fields: [String: Any]) {
        if let text = JSONRecord.line(fields) { appendLog(json: text) }
    }

    /// Writes tokenizer.json.
    func save(tokenizer: CharTokenizer) throws {
        try AtomicFile.write(try Checkpoint.encoder.encode(tokenizer), to: url.appendingPathComponent("tokenizer.json"))
    }

    /// Changes the record and writes run.json (atomically; nothing when read-only).
    func update(_ change: (inout RunRecord) throws -> Void) throws {
        try change(&record)
        guard log != nil else { return }
        record.updatedAt = RunRecord.timestamp()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(record), to: url.appendingPathComponent("run.json"))
    }

    /// Writes `checkpoint` as `checkpoints/step-N` and records it as the latest and, when
    /// `score` (the value of the best metric at this step) beats the best so far, as the best;
    /// then removes checkpoints beyond the `keepLast` latest that are not the best. Returns the
    /// checkpoint's folder.
    @discardableResult
    func save(_ checkpoint: Checkpoint, keepLast: Int, score: (metric: String, value: Double, minimize: Bool)?) throws -> URL {
        let step = checkpoint.manifest.trainer.step
        let name = "\(Self.checkpointsFolder)/step-\(String(format: "%08d", step))"
        let folder = url.appendingPathComponent(name, isDirectory: true)
        try FileManager.default.createDirectory(at: url.appendingPathComponent(Self.checkpointsFolder), withIntermediateDirectories: true)
        try checkpoint.write(to: folder)
        try update { r in
            r.latest = name
            r.checkpoints.removeAll { $0 == name }
            r.checkpoints.append(name)
            if let score, score.value.isFinite,
               r.best.map({ score.minimize ? score.value < $0.value : score.value > $0.value }) ?? true {
                r.best = RunRecord.Best(metric: score.metric, value: score.value, step: step, checkpoint: name)
            }
            let keep = Set(r.checkpoints.suffix(max(keepLast, 1)) + [r.best?.checkpoint].compactMap { $0 })
            for old in r.checkpoints where !keep.contains(old) {
                try? FileManager.default.removeItem(at: url.appendingPathComponent(old))
            }
            r.checkpoints = r.checkpoints.filter(keep.contains)
        }
        return folder
    }
}

extension RunDirectory {
    /// Which checkpoint of a run to open.
    public enum CheckpointChoice: Sendable, Equatable {
        /// The latest one.
        case latest
        /// The best by `checkpoint.best_metric`.
        case best
        /// The one of this step.
        case step(Int)
    }

    /// The checkpoint folder `path` names: `path` itself when it is a checkpoint, else the
    /// `choice` of the run directory `path`.
    /// - Throws: `CheckpointError` for a path that is neither, or a run without that checkpoint,
    ///   saying what there is.
    public static func checkpoint(at path: String, _ choice: CheckpointChoice = .latest) throws -> URL {
        let url = URL(fileURLWithPath: ConfigPaths.expandingTilde(path), isDirectory: true)
        let fm = FileManager.default
        if fm.fileExists(atPath: url.appendingPathComponent(Checkpoint.File.trainer.rawValue).path) { return url }
        guard fm.fileExists(atPath: url.appendingPathComponent("run.json").path) else {
            throw CheckpointError(message: "\(url.path): neither a run directory (no run.json) nor a checkpoint (no trainer.json); train one with `autoglm train`")
        }
        let record = try readRecord(url)
        let name: String?
        switch choice {
        case .latest: name = record.latest
        case .best: name = record.best?.checkpoint
        case .step(let step): name = record.checkpoints.first { $0.hasSuffix("step-\(String(format: "%08d", step))") }
        }
        guard let name else {
            let kept = record.checkpoints.isEmpty ? "none" : record.checkpoints.joined(separator: ", ")
            throw CheckpointError(message: "\(url.path): has no \(describe(choice)) checkpoint (kept: \(kept))")
        }
        return url.appendingPathComponent(name, isDirectory: true)
    }

    /// `choice` in words.
    private static func describe(_ choice: CheckpointChoice) -> String {
        switch choice {
        case .latest: return "latest"
        case .best: return "best"
        case .step(let step): return "step \(step)"
        }
    }

    /// The record (run.json) of the run directory at `url`; a run recorded as running whose lock
    /// no process holds is reported as crashed.
    /// - Throws: `CheckpointError` naming run.json when it is missing or damaged.
    public static func readRecord(_ url: URL) throws -> RunRecord {
        let file = url.appendingPathComponent("run.json")
        var record: RunRecord
        do {
            record = try JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: file))
        } catch {
            throw CheckpointError(message: "\(file.path): cannot be read (\(error.localizedDescription)); the run directory is damaged or was not written by AutoGLM")
        }
        if record.status == .running, !RunLock.isHeld(in: url) { record.status = .crashed }
        return record
    }
}
