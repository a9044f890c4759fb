import ArgumentParser
import AutoGLM
import Foundation

/// How `autoglm train` prints its progress (`--log-format`).
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    /// For people: a redrawn status line on a terminal, plain lines otherwise.
    case text
    /// For scripts: one JSON object per line on standard output.
    case json
}

/// What `autoglm train` shows while it runs, in one of four modes:
/// - `bar`: on a terminal, one status line redrawn in place (step/total, a bar, loss, the latest
///   val loss, tokens/s, lr, ETA; during an evaluation its batches, while the data loads the
///   bytes read and the tokenizing), at most `redrawInterval` apart; evaluation results, log
///   lines and warnings are printed above it.
/// - `lines`: when standard error is not a terminal (CI logs), one plain line per logged step
///   and per evaluation, and a line about work underway (evaluating, reading, tokenizing) at
///   most every `underwayInterval`.
/// - `json`: one JSON object per line on standard output (see README "Watch a run").
/// - `quiet`: only warnings and errors.
/// The summary ("done: …", "run directory: …") goes to standard output in the text modes.
final class ProgressDisplay: @unchecked Sendable {
    /// How progress is shown.
    enum Mode: Equatable {
        case bar
        case lines
        case json
        case quiet
    }

    /// Seconds between two redraws of the status line.
    static let redrawInterval = 0.1
    /// Seconds between two plain lines about work underway.
    static let underwayInterval = 10.0

    /// The mode.
    let mode: Mode
    /// Where the status line, plain lines, log lines and warnings go (standard error).
    private let status: TextStream
    /// Where the summary and the JSON records go (standard output).
    private let output: TextStream
    /// Seconds on a monotonic clock.
    private let clock: () -> Double
    /// Whether the bar may use Unicode block characters.
    private let unicode: Bool
    /// Serialises calls (log lines may come from the session while a report is drawn).
    private let lock = NSLock()
    /// The status line last drawn and not yet ended, if any.
    private var shown: String?
    /// The latest status, drawn or not.
    private var latest: StatusLine?
    /// When the status line was last drawn.
    private var lastDrawn = -Double.infinity
    /// The latest step.
    private var lastStep: TrainingProgress?
    /// The latest validation loss.
    private var valLoss: Double?
    /// The work underway (`lines`): its name ("reading", "evaluating at step 250"), and when it
    /// began or was last printed.
    private var underway: (name: String, since: Double)?

    /// A display in `mode`, writing the status to `status` and the summary and JSON records to
    /// `output`.
    init(mode: Mode, status: TextStream, output: TextStream, unicode: Bool,
         clock: @escaping () -> Double = ProgressDisplay.monotonicSeconds) {
        self.mode = mode
        self.status = status
        self.output = output
        self.unicode = unicode
        self.clock = clock
    }

    /// The display for this process: `bar` if standard error is a terminal, `lines` if not,
    /// `json` or `quiet` when asked for.
    static func commandLine(quiet: Bool, format: LogFormat) -> ProgressDisplay {
        let status = TextStream.standardError
        let mode: Mode = quiet ? .quiet : format == .json ? .json : status.isTerminal ? .bar : .lines
        return ProgressDisplay(mode: mode, status: status, output: .standardOutput,
                               unicode: localeIsUTF8(ProcessInfo.processInfo.environment))
    }

    /// Whether the locale's character set is UTF-8 (the first of LC_ALL, LC_CTYPE, LANG set).
    static func localeIsUTF8(_ environment: [String: String]) -> Bool {
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty } ?? ""
        let lower = locale.lowercased()
        return lower.contains("utf-8") || lower.contains("utf8")
    }

    /// Seconds since an arbitrary start.
    static func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    // MARK: - Events

    /// The run is about to train: what, on what, with what, where (and, resumed, from where).
    func started(_ session: Session, resumedFrom resume: String? = nil) {
        lock.lock()
        defer { lock.unlock() }
        if shown != nil { status.write("\r\u{1B}[K") }  // loading is over: its status goes
        (shown, latest, lastDrawn) = (nil, nil, -.infinity)
        let c = session.config
        switch mode {
        case .json:
            record(["kind": "start", "parameters": session.model.parameterCount, "train_tokens": session.dataset.train.count,
                    "val_tokens": session.dataset.validation.count, "vocab": session.tokenizer.count,
                    "attention": c.attention.name, "optimizer": c.optimizer.name, "max_steps": c.train.steps,
                    "run_dir": c.run.dir, "step": session.state.step, "resumed_from": resume ?? NSNull()])
        case .bar, .lines:
            let from = resume.map { " from step \(session.state.step) of \($0)" } ?? ""
            plain("training \(session.model.parameterCount) parameters on \(session.dataset.train.count) tokens "
                  + "(vocab \(session.tokenizer.count)) with \(c.attention.name) + \(c.optimizer.name)\(from) → \(c.run.dir)")
        case .quiet:
            break
        }
    }

    /// One update from the session.
    func report(_ p: TrainingProgress) {
        lock.lock()
        defer { lock.unlock() }
        switch p.kind {
        case .step:
            lastStep = p
            switch mode {
            case .bar: draw(stepStatus(p), force: p.step == p.maxSteps)
            case .lines: if p.logged { plain(Self.stepLine(p, valLoss: valLoss)) }
            case .json: if p.logged { record(Self.stepRecord(p)) }
            case .quiet: break
            }
        case .evaluation:
            valLoss = p.metrics.first { $0.name == "val/loss" }?.value ?? valLoss
            switch mode {
            case .bar:
                latest = lastStep.map(stepStatus)  // the bar shows the training again
                plain(Self.evaluationLine(p))
            case .lines: plain(Self.evaluationLine(p))
            case .json: record(Self.evaluationRecord(p))
            case .quiet: break
            }
        case .evaluating, .readingData, .tokenizing:
            guard let line = underwayStatus(p) else { return }
            switch mode {
            case .bar: draw(line, force: false)
            case .lines: throttledPlain(p)
            case .json, .quiet: break
            }
        }
    }

    /// A log line of the host or a plugin: above the status line; in `json` a record; when
    /// quiet only warnings and errors. Debug lines are dropped.
    func log(_ level: HostLog.Level, _ message: String) {
        guard level != .debug, mode != .quiet || level.rawValue >= HostLog.Level.warning.rawValue else { return }
        lock.lock()
        defer { lock.unlock() }
        if mode == .json {
            record(["kind": "log", "level": Self.name(level), "message": message])
        } else {
            plain("\(Self.name(level)): \(message)")
        }
    }

    /// A warning of the command itself (a plugin that did not load).
    func warning(_ message: String) { log(.warning, message) }

    /// Training ended: ends the status line and prints the summary (text modes) or the `done`
    /// record (json).
    func finished(_ result: TrainingResult, runDirectory: String) {
        end()
        lock.lock()
        defer { lock.unlock() }
        if mode == .json {
            var fields: [String: Any] = ["kind": "done", "steps": result.steps, "loss": result.finalLoss,
                                         "seconds": result.seconds, "train_seconds": result.trainSeconds,
                                         "stopped_early": result.stoppedEarly, "run_dir": runDirectory]
            for m in result.metrics { fields[m.name] = m.value }
            record(fields)
            return
        }
        let metrics = result.metrics.map { ", \($0.name) \(Self.decimal($0.value))" }.joined()
        output.write("done: \(result.steps) steps in \(String(format: "%.1f", result.seconds)) s (training "
                     + "\(String(format: "%.1f", result.trainSeconds)) s), train loss \(Self.decimal(result.finalLoss))\(metrics)\n")
        output.write("run directory: \(runDirectory)\n")
    }

    /// Ends the status line (drawing its latest state first), so that what follows (the
    /// summary, an error message) starts on a line of its own.
    func end() {
        lock.lock()
        defer { lock.unlock() }
        guard mode == .bar, let latest else { return }
        if shown != latest.render(width: width, unicode: unicode) { draw(latest, force: true) }
        status.write("\n")
        shown = nil
        self.latest = nil
    }

    // MARK: - Drawing

    /// Columns a status line may use: one less than the terminal's, so that the cursor never
    /// wraps to the next line.
    private var width: Int { max(status.columns() - 1, 1) }

    /// Redraws the status line as `line`, unless the last redraw is less than `redrawInterval`
    /// ago and `force` is false.
    private func draw(_ line: StatusLine, force: Bool) {
        latest = line
        let now = clock()
        guard force || now - lastDrawn >= Self.redrawInterval else { return }
        lastDrawn = now
        let text = line.render(width: width, unicode: unicode)
        status.write("\r\u{1B}[K" + text)
        shown = text
    }

    /// Prints `text` as a line of its own on the status stream: above the status line, which is
    /// then drawn again.
    private func plain(_ text: String) {
        guard mode == .bar, shown != nil else { status.write(text + "\n"); return }
        status.write("\r\u{1B}[K" + text + "\n")
        shown = nil
        if let latest { draw(latest, force: true) }
    }

    /// A plain line about work underway, once it has gone on for `underwayInterval` and then
    /// every `underwayInterval` (short work prints nothing).
    private func throttledPlain(_ p: TrainingProgress) {
        let now = clock()
        let name = Self.underwayName(p)
        guard let current = underway, current.name == name else { underway = (name, now); return }
        guard now - current.since >= Self.underwayInterval else { return }
        underway = (name, now)
        plain(Self.underwayLine(p))
    }

    /// Writes one JSON record to standard output.
    private func record(_ fields: [String: Any]) {
        if let line = JSONRecord.line(fields) { output.write(line + "\n") }
    }

    // MARK: - Texts

    /// The status line after a step.
    private func stepStatus(_ p: TrainingProgress) -> StatusLine {
        StatusLine(label: "step \(p.step)/\(p.maxSteps)", fraction: Double(p.step) / Double(max(p.maxSteps, 1)),
                   fields: trainingFields(p))
    }

    /// The fields of a training status: loss, val loss, tokens/s, lr, ETA (lr goes first when
    /// space is short, loss last).
    private func trainingFields(_ p: TrainingProgress) -> [StatusLine.Field] {
        var fields = [StatusLine.Field(text: "loss \(Self.decimal(p.loss))", priority: 5)]
        if let valLoss { fields.append(.init(text: "val \(Self.decimal(valLoss))", priority: 3)) }
        fields.append(.init(text: "\(Self.rate(p.tokensPerSecond)) tok/s", priority: 2))
        fields.append(.init(text: "lr \(String(format: "%.2e", p.lr))", priority: 1))
        fields.append(.init(text: "ETA \(Self.duration(p.eta))", priority: 4))
        return fields
    }

    /// The status line of work underway, nil for other kinds.
    private func underwayStatus(_ p: TrainingProgress) -> StatusLine? {
        switch p.kind {
        case .evaluating(let batch, let of):
            return StatusLine(label: "evaluating \(batch)/\(of) batches", fraction: Double(batch) / Double(max(of, 1)),
                              fields: [.init(text: "step \(p.step)/\(p.maxSteps)", priority: 6)] + trainingFields(p))
        case .readingData(let bytes, let of):
            return StatusLine(label: "reading data", fraction: Double(bytes) / Double(max(of, 1)),
                              fields: [.init(text: Self.amount(bytes, of: of), priority: 1)])
        case .tokenizing(let done, let of):
            return StatusLine(label: "tokenizing", fraction: Double(done) / Double(max(of, 1)), fields: [])
        case .step, .evaluation:
            return nil
        }
    }

    /// A plain line for a logged step.
    static func stepLine(_ p: TrainingProgress, valLoss: Double?) -> String {
        var parts = [String(format: "step %5d/%d", p.step, p.maxSteps), "loss \(decimal(p.loss))"]
        if let valLoss { parts.append("val \(decimal(valLoss))") }
        parts += ["\(rate(p.tokensPerSecond)) tok/s", "lr \(String(format: "%.2e", p.lr))", "ETA \(duration(p.eta))"]
        return parts.joined(separator: " | ")
    }

    /// A plain line for an evaluation.
    static func evaluationLine(_ p: TrainingProgress) -> String {
        "eval at step \(p.step): " + p.metrics.map { "\($0.name) \(decimal($0.value))" }.joined(separator: ", ")
    }

    /// Which work is underway: one name per evaluation, reading, tokenizing.
    static func underwayName(_ p: TrainingProgress) -> String {
        switch p.kind {
        case .evaluating: return "evaluating at step \(p.step)"
        case .readingData: return "reading data"
        case .tokenizing: return "tokenizing"
        case .step, .evaluation: return ""
        }
    }

    /// A plain line about work underway.
    static func underwayLine(_ p: TrainingProgress) -> String {
        switch p.kind {
        case .evaluating(let batch, let of): return "evaluating at step \(p.step): \(batch)/\(of) batches"
        case .readingData(let bytes, let of): return "reading data: \(amount(bytes, of: of))"
        case .tokenizing(let done, let of): return "tokenizing: \(Int(Double(done) / Double(max(of, 1)) * 100))%"
        case .step, .evaluation: return ""
        }
    }

    /// The JSON record of a logged step (the keys of log.jsonl's, plus max_steps and eta_s).
    static func stepRecord(_ p: TrainingProgress) -> [String: Any] {
        ["kind": "step", "step": p.step, "max_steps": p.maxSteps, "loss": p.loss, "lr": p.lr, "grad_norm": p.gradNorm,
         "tokens_per_s": p.tokensPerSecond, "elapsed_s": p.elapsed, "eta_s": p.eta]
    }

    /// The JSON record of an evaluation (as log.jsonl's: each metric a key).
    static func evaluationRecord(_ p: TrainingProgress) -> [String: Any] {
        var fields: [String: Any] = ["kind": "eval", "step": p.step, "elapsed_s": p.elapsed]
        for m in p.metrics { fields[m.name] = m.value }
        return fields
    }

    /// A level's name in a log line.
    static func name(_ level: HostLog.Level) -> String {
        switch level {
        case .debug: return "debug"
        case .info: return "info"
        case .warning: return "warning"
        case .error: return "error"
        }
    }

    /// Four decimals ("2.3456").
    static func decimal(_ x: Double) -> String { String(format: "%.4f", x) }

    /// A rate: "950", "12.3k", "1.20M".
    static func rate(_ x: Double) -> String {
        guard x.isFinite else { return "-" }
        if x >= 1e6 { return String(format: "%.2fM", x / 1e6) }
        if x >= 1e4 { return String(format: "%.1fk", x / 1e3) }
        return String(format: "%.0f", x)
    }

    /// "3.0/12.0 MB": bytes done of a total, in the total's unit (KB, MB or GB, of 1024).
    static func amount(_ bytes: Int, of total: Int) -> String {
        let (unit, scale) = total >= 1 << 30 ? ("GB", 1 << 30) : total >= 1 << 20 ? ("MB", 1 << 20) : ("KB", 1 << 10)
        let d = Double(scale)
        return String(format: "%.1f/%.1f ", Double(bytes) / d, Double(total) / d) + unit
    }

    /// "42s", "3m05s", "2h07m".
    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        if t >= 3600 { return "\(t / 3600)h\(String(format: "%02d", t / 60 % 60))m" }
        return t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s"
    }
}
