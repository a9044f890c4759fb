import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// The bundled callbacks (early_stopping, reduce_lr_on_plateau, terminate_on_nan,
/// checkpoint_every, csv_log, dynamic_accumulation) driving the real Trainer: each test checks
/// the effect on the run against the rule written out here (on the run's own metric series where
/// the rule depends on it), and the state round trip through save_state/load_state.
final class CallbackPluginTests: XCTestCase {
    private static let registry = PluginBuilder.bundledRegistry()

    // MARK: - helpers

    /// What a run produced: the result, the metrics of each evaluation and the lr of each step
    /// (from the progress callback, logInterval 1), and the run directory.
    private struct Run {
        var result: TrainingResult
        var evaluations: [(step: Int, metrics: [String: Double])] = []
        var lrs: [Int: Double] = [:]
        var dir: URL
        func valLoss() -> [Double] { evaluations.map { $0.metrics["val/loss"]! } }
    }

    private final class Box { weak var session: Session? }

    private func options(steps: Int, evalInterval: Int, callbacks: [(String, [String: ParameterValue])]) throws -> RunConfig {
        var c = TrainingTests.config(runDir: try PluginBuilder.temporaryDirectory("cb").path, steps: steps)
        c.train.evalInterval = evalInterval
        c.train.evalBatches = 2
        c.train.logInterval = 1
        c.callbacks = callbacks.map { ComponentSelection(kind: .callback, name: $0.0, parameters: $0.1) }
        return c
    }

    /// Trains with `config`; `atEvaluation` runs while the evaluated weights are in the model.
    private func train(_ config: RunConfig, overwrite: Bool = false, atEvaluation: ((Session, Int) -> Void)? = nil) throws -> Run {
        var evaluations: [(step: Int, metrics: [String: Double])] = []
        var lrs: [Int: Double] = [:]
        let box = Box()
        let session = try TrainingTests.session(config, registry: Self.registry, overwrite: overwrite) { p in
            switch p.kind {
            case .step: lrs[p.step] = p.lr
            case .evaluation:
                evaluations.append((p.step, Dictionary(uniqueKeysWithValues: p.metrics.map { ($0.name, $0.value) })))
                if let session = box.session { atEvaluation?(session, p.step) }
            case .evaluating, .readingData, .tokenizing: break
            }
        }
        box.session = session
        let result = try session.train()
        return Run(result: result, evaluations: evaluations, lrs: lrs, dir: URL(fileURLWithPath: config.run.dir))
    }

    /// The JSON records of a run's log.jsonl of the given kind ("step", "eval").
    private func logRecords(_ dir: URL, kind: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: dir.appendingPathComponent("log.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Foundation.Data($0.utf8)) as? [String: Any]
        }.filter { $0["kind"] as? String == kind }
    }

    /// A number of a log record; NaN for null (non-finite values are logged as null).
    private func number(_ record: [String: Any], _ key: String) -> Double {
        (record[key] as? NSNumber)?.doubleValue ?? .nan
    }

    private func callback(_ name: String, _ parameters: [String: ParameterValue]) throws -> CallbackInstance {
        try CallbackInstance(registry: Self.registry, name: name, parameters: parameters)
    }

    /// Delivers one EVALUATE event with the given metrics; returns the control afterwards.
    @discardableResult
    private func evaluate(_ c: CallbackInstance, step: Int, _ metrics: [(String, Double)],
                          control: TrainerControl = TrainerControl()) throws -> TrainerControl {
        var state = TrainerSnapshot()
        state.step = step
        state.metrics = metrics.map { Metric(name: $0.0, value: $0.1) }
        var control = control
        try c.onEvent(.evaluate, state: state, control: &control)
        return control
    }

    private func earlyStoppingParameters(monitor: String = "val/loss", patience: Int, minDelta: Double, mode: String) -> [String: ParameterValue] {
        ["monitor": .string(monitor), "patience": .number(Double(patience)), "min_delta": .number(minDelta), "mode": .string(mode)]
    }

    // MARK: - early_stopping

    /// Keras' rule, written out: the index of the evaluation at which training stops, or nil.
    private func referenceEarlyStop(_ values: [Double], patience: Int, minDelta: Double, maximize: Bool) -> Int? {
        var best = maximize ? -Double.infinity : .infinity, wait = 0
        for (i, v) in values.enumerated() {
            if maximize ? v > best + minDelta : v < best - minDelta {
                best = v; wait = 0
            } else {
                wait += 1
                if wait >= patience { return i }
            }
        }
        return nil
    }

    func testEarlyStoppingStopsWhenPatienceRunsOut() throws {
        // Mode max with a huge min_delta: only the first evaluation (step 5) improves; after two
        // more evaluations without improvement (steps 10 and 15) training stops at step 15.
        let o = try options(steps: 40, evalInterval: 5,
                            callbacks: [("early_stopping", earlyStoppingParameters(patience: 2, minDelta: 1e9, mode: "max"))])
        let run = try train(o)
        XCTAssertEqual(run.result.steps, 15)
        XCTAssertTrue(run.result.stoppedEarly)
        XCTAssertEqual(run.evaluations.map(\.step), [5, 10, 15])
    }

    func testEarlyStoppingFollowsTheRuleOnARealRun() throws {
        let es = earlyStoppingParameters(patience: 2, minDelta: 0.01, mode: "min")
        let unstopped = try train(try options(steps: 60, evalInterval: 2, callbacks: []))
        let series = unstopped.valLoss()
        let stopIndex = try XCTUnwrap(referenceEarlyStop(series, patience: 2, minDelta: 0.01, maximize: false),
                                      "the reference should stop within 60 steps: \(series)")
        let stopped = try train(try options(steps: 60, evalInterval: 2, callbacks: [("early_stopping", es)]))
        XCTAssertEqual(stopped.result.steps, unstopped.evaluations[stopIndex].step)
        XCTAssertTrue(stopped.result.stoppedEarly)
        XCTAssertEqual(stopped.valLoss(), Array(series.prefix(stopIndex + 1)), "same seed: the same curve up to the stop")
    }

    func testEarlyStoppingStateSurvivesACheckpoint() throws {
        let params = earlyStoppingParameters(monitor: "val/accuracy", patience: 2, minDelta: 0, mode: "max")
        let a = try callback("early_stopping", params)
        XCTAssertFalse(try evaluate(a, step: 10, [("val/loss", 2), ("val/accuracy", 0.5)]).stop) // best 0.5
        XCTAssertFalse(try evaluate(a, step: 20, [("val/loss", 2), ("val/accuracy", 0.4)]).stop) // wait 1
        let bytes = try XCTUnwrap(try a.saveState())

        // Restored: the next evaluation without improvement exhausts the patience.
        let b = try callback("early_stopping", params)
        try b.loadState(bytes)
        XCTAssertEqual(try b.saveState(), bytes)
        XCTAssertTrue(try evaluate(b, step: 30, [("val/loss", 2), ("val/accuracy", 0.45)]).stop)
        // The original agrees; a fresh instance (best -inf) does not stop.
        XCTAssertTrue(try evaluate(a, step: 30, [("val/loss", 2), ("val/accuracy", 0.45)]).stop)
        XCTAssertFalse(try evaluate(try callback("early_stopping", params), step: 30, [("val/accuracy", 0.45)]).stop)
        // Restored best is 0.5: 0.6 improves (wait 0), then one bad evaluation is not enough.
        let c = try callback("early_stopping", params)
        try c.loadState(bytes)
        XCTAssertFalse(try evaluate(c, step: 30, [("val/accuracy", 0.6)]).stop)
        XCTAssertFalse(try evaluate(c, step: 40, [("val/accuracy", 0.55)]).stop)
        XCTAssertTrue(try evaluate(c, step: 50, [("val/accuracy", 0.55)]).stop)

        // A checkpoint of another monitor does not apply: the counters start afresh.
        let other = try callback("early_stopping", earlyStoppingParameters(patience: 2, minDelta: 0, mode: "min"))
        try other.loadState(bytes)
        XCTAssertFalse(try evaluate(other, step: 30, [("val/loss", 9)]).stop)
        // Corrupt or foreign bytes are refused with a message.
        XCTAssertThrowsError(try b.loadState(Array(bytes.prefix(bytes.count - 3)))) { XCTAssertTrue("\($0)".contains("corrupt"), "\($0)") }
        XCTAssertThrowsError(try b.loadState(Array("JSNL0000".utf8))) { XCTAssertTrue("\($0)".contains("not a early_stopping state"), "\($0)") }
        // A monitored metric that is not reported is an error naming what was reported.
        XCTAssertThrowsError(try evaluate(b, step: 60, [("val/loss", 1)])) { error in
            XCTAssertTrue("\(error)".contains("val/accuracy") && "\(error)".contains("reported: val/loss"), "\(error)")
        }
    }

    // MARK: - reduce_lr_on_plateau

    /// torch.optim.lr_scheduler.ReduceLROnPlateau (threshold_mode "abs"), written out: the scale
    /// in force after each evaluation.
    private func referencePlateauScales(_ values: [Double], maximize: Bool, factor: Double, patience: Int,
                                        minDelta: Double, cooldown: Int, minScale: Double) -> [Double] {
        var best = maximize ? -Double.infinity : .infinity, bad = 0, cooldownLeft = 0, scale = 1.0
        var scales: [Double] = []
        for v in values {
            if maximize ? v > best + minDelta : v < best - minDelta { best = v; bad = 0 } else { bad += 1 }
            if cooldownLeft > 0 { cooldownLeft -= 1; bad = 0 }
            if bad > patience {
                scale = max(scale * factor, minScale)
                cooldownLeft = cooldown
                bad = 0
            }
            scales.append(scale)
        }
        return scales
    }

    private func plateauParameters(mode: String, factor: Double, patience: Int, minDelta: Double, cooldown: Int,
                                   minScale: Double) -> [String: ParameterValue] {
        ["monitor": .string("val/loss"), "mode": .string(mode), "factor": .number(factor), "patience": .number(Double(patience)),
         "min_delta": .number(minDelta), "cooldown": .number(Double(cooldown)), "min_scale": .number(minScale)]
    }

    /// Checks every step's lr against schedule(step) × the scale set by the last evaluation
    /// before that step.
    private func assertLearningRates(_ run: Run, _ config: RunConfig, scales: [Double],
                                     file: StaticString = #filePath, line: UInt = #line) {
        let t = config.train
        func lr(at step: Int) -> Double {
            NanoGPTSchedule.lr(step, peak: config.lr, minLR: t.minLR, warmup: t.warmupSteps, total: t.steps, shape: .cosine)
        }
        XCTAssertEqual(run.lrs.count, run.result.steps, file: file, line: line)
        for step in 1...run.result.steps {
            let before = run.evaluations.enumerated().filter { $0.element.step < step }.map(\.offset).last
            let scale = before.map { scales[$0] } ?? 1
            let expected = lr(at: step - 1) * scale
            XCTAssertEqual(run.lrs[step]!, expected, accuracy: expected * 1e-12, "step \(step)", file: file, line: line)
        }
    }

    func testReduceLROnPlateauHalvesTheLearningRateDownToItsFloor() throws {
        // Mode max with a huge min_delta: only the first evaluation improves. patience 1: every
        // second bad evaluation halves the scale (evaluations at steps 6, 10, 14, 18), floored
        // at 0.1: 1 → 0.5 → 0.25 → 0.125 → 0.1.
        let params = plateauParameters(mode: "max", factor: 0.5, patience: 1, minDelta: 1e9, cooldown: 0, minScale: 0.1)
        let o = try options(steps: 20, evalInterval: 2, callbacks: [("reduce_lr_on_plateau", params)])
        let run = try train(o)
        let scales = [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.1, 0.1]
        XCTAssertEqual(referencePlateauScales(run.valLoss(), maximize: true, factor: 0.5, patience: 1, minDelta: 1e9,
                                              cooldown: 0, minScale: 0.1), scales)
        assertLearningRates(run, o, scales: scales)
    }

    func testReduceLROnPlateauFollowsTorchOnARealRunWithCooldown() throws {
        let params = plateauParameters(mode: "min", factor: 0.7, patience: 0, minDelta: 0.01, cooldown: 1, minScale: 0.2)
        let o = try options(steps: 40, evalInterval: 2, callbacks: [("reduce_lr_on_plateau", params)])
        let run = try train(o)
        let scales = referencePlateauScales(run.valLoss(), maximize: false, factor: 0.7, patience: 0, minDelta: 0.01,
                                            cooldown: 1, minScale: 0.2)
        XCTAssertLessThan(scales.last!, 1, "the run should plateau at least once: \(run.valLoss())")
        assertLearningRates(run, o, scales: scales)
    }

    func testReduceLROnPlateauStateRestoresTheScale() throws {
        let params = plateauParameters(mode: "min", factor: 0.5, patience: 0, minDelta: 0, cooldown: 0, minScale: 0)
        let a = try callback("reduce_lr_on_plateau", params)
        var control = TrainerControl()
        control = try evaluate(a, step: 1, [("val/loss", 2)], control: control)
        XCTAssertEqual(control.lrScale, 1)
        control = try evaluate(a, step: 2, [("val/loss", 2.1)], control: control)  // bad 1 > 0: halve
        XCTAssertEqual(control.lrScale, 0.5)
        let bytes = try XCTUnwrap(try a.saveState())

        let b = try callback("reduce_lr_on_plateau", params)
        try b.loadState(bytes)
        XCTAssertEqual(try b.saveState(), bytes)
        var resumed = TrainerControl()  // a host that does not carry lr_scale across the resume
        try b.onEvent(.trainBegin, state: TrainerSnapshot(), control: &resumed)
        XCTAssertEqual(resumed.lrScale, 0.5, "the restored scale is re-applied at TRAIN_BEGIN")
        // best 2 restored: 2.05 does not improve -> halve again; 1.9 improves -> unchanged.
        resumed = try evaluate(b, step: 3, [("val/loss", 2.05)], control: resumed)
        XCTAssertEqual(resumed.lrScale, 0.25)
        resumed = try evaluate(b, step: 4, [("val/loss", 1.9)], control: resumed)
        XCTAssertEqual(resumed.lrScale, 0.25)
        // It composes with another callback's scale: it multiplies by new/old, not sets.
        let c = try callback("reduce_lr_on_plateau", params)
        var shared = TrainerControl(lrScale: 3)
        shared = try evaluate(c, step: 1, [("val/loss", 2)], control: shared)
        shared = try evaluate(c, step: 2, [("val/loss", 2)], control: shared)
        XCTAssertEqual(shared.lrScale, 1.5)
    }

    // MARK: - terminate_on_nan

    func testTerminateOnNaNStopsAtTheFirstNonFiniteStep() throws {
        // A learning rate of 1e30 makes the weights overflow within a few steps.
        func diverging(_ callbacks: [(String, [String: ParameterValue])]) throws -> RunConfig {
            var o = try options(steps: 12, evalInterval: 0, callbacks: callbacks)
            o.train.onNonfinite = .ignore  // the host would stop at the first non-finite step itself
            o.lr = 1e30
            o.train.minLR = 1e30
            o.train.warmupSteps = 0
            o.evaluators = []
            return o
        }
        let unstopped = try train(try diverging([]))
        XCTAssertEqual(unstopped.result.steps, 12)
        let steps = try logRecords(unstopped.dir, kind: "step")
        let firstBad = try XCTUnwrap(steps.first { !number($0, "loss").isFinite || !number($0, "grad_norm").isFinite },
                                     "the run should diverge: \(steps)")
        let badStep = Int(number(firstBad, "step"))
        XCTAssertLessThan(badStep, 12)

        let params: [String: ParameterValue] = ["check_grad_norm": .number(1), "check_val_loss": .number(1)]
        let stopped = try train(try diverging([("terminate_on_nan", params)]))
        XCTAssertEqual(stopped.result.steps, badStep)
        XCTAssertTrue(stopped.result.stoppedEarly)
        let last = try XCTUnwrap(try logRecords(stopped.dir, kind: "step").last)
        XCTAssertFalse(number(last, "loss").isFinite && number(last, "grad_norm").isFinite)

        // Without the gradient-norm check, the stop waits for the first non-finite loss.
        let lossBad = try XCTUnwrap(steps.first { !number($0, "loss").isFinite }, "the loss should diverge: \(steps)")
        let lossOnly = try train(try diverging([("terminate_on_nan", ["check_grad_norm": .number(0), "check_val_loss": .number(1)])]))
        XCTAssertEqual(lossOnly.result.steps, Int(number(lossBad, "step")))
        XCTAssertGreaterThanOrEqual(lossOnly.result.steps, badStep)

        // A healthy run is not stopped.
        let healthy = try train(try options(steps: 10, evalInterval: 5, callbacks: [("terminate_on_nan", params)]))
        XCTAssertEqual(healthy.result.steps, 10)
        XCTAssertFalse(healthy.result.stoppedEarly)
    }

    // MARK: - checkpoint_every

    func testCheckpointEveryAsksForCheckpointsAndTheHostKeepsTheBest() throws {
        // Mode max on val/loss, which falls while training: the best checkpoint is an early one,
        // kept beside the last `keep_last`.
        var o = try options(steps: 16, evalInterval: 4, callbacks: [
            ("checkpoint_every", ["every": .number(3)]), ("jsonl_log", ["file": .string("events.jsonl"), "every": .number(1000)]),
        ])
        o.checkpoint.bestMode = .max
        o.checkpoint.keepLast = 2
        var snapshots: [Int: [String: [Float]]] = [:]
        let run = try train(o) { session, step in
            snapshots[step] = Dictionary(uniqueKeysWithValues: session.model.parameters.map { ($0.name ?? "", $0.values) })
        }
        // The best evaluation: strictly higher than every earlier one.
        var best = -Double.infinity, bestStep = -1
        for e in run.evaluations where e.metrics["val/loss"]! > best { best = e.metrics["val/loss"]!; bestStep = e.step }
        // Saves: every 3 steps (the callback) and at every evaluation (the host's default).
        let events = try String(contentsOf: run.dir.appendingPathComponent("events.jsonl"), encoding: .utf8).split(separator: "\n")
        let saves = try events.compactMap { line -> Int? in
            let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Foundation.Data(line.utf8)) as? [String: Any])
            return record["event"] as? String == "save" ? (record["step"] as? Int) : nil
        }
        XCTAssertEqual(saves, Array(Set([3, 6, 9, 12, 15, 4, 8, 16])).sorted())

        let record = try RunDirectory.readRecord(run.dir)
        XCTAssertEqual(record.status, .finished)
        XCTAssertEqual(record.best?.step, bestStep)
        XCTAssertEqual(record.best?.metric, "val/loss")
        XCTAssertEqual(record.best?.value, best)
        XCTAssertEqual(record.latest, "checkpoints/step-00000016")
        let kept = Set(["checkpoints/step-00000015", "checkpoints/step-00000016", "checkpoints/step-\(String(format: "%08d", bestStep))"])
        XCTAssertEqual(Set(record.checkpoints), kept, "the last two and the best")
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: run.dir.appendingPathComponent("checkpoints").path)
        XCTAssertEqual(Set(onDisk.map { "checkpoints/" + $0 }), kept, "the others are deleted")
        let stored = try Safetensors.read(from: RunDirectory.checkpoint(at: run.dir.path, .best)
            .appendingPathComponent("model.safetensors")).tensors
        let expected = try XCTUnwrap(snapshots[bestStep])
        XCTAssertEqual(Set(stored.keys), Set(expected.keys))
        for (name, values) in expected { XCTAssertEqual(stored[name]?.values, values, name) }
        XCTAssertNotEqual(bestStep, 16, "val/loss falls, so with mode max the best is not the last")
    }

    // MARK: - csv_log

    /// Splits a CSV line (no quoted fields in these tests).
    private func cells(_ line: Substring) -> [String] { line.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }

    func testCsvLogWritesOneRowPerLoggedStepWithTheFirstEvaluationsColumns() throws {
        let csv: [String: ParameterValue] = ["file": .string("curve.csv"), "every": .number(3)]
        var o = try options(steps: 12, evalInterval: 5, callbacks: [("csv_log", csv)])
        o.evaluators = [ComponentSelection(kind: .evaluator, name: "perplexity"), ComponentSelection(kind: .evaluator, name: "accuracy")]
        let run = try train(o)
        let lines = try String(contentsOf: run.dir.appendingPathComponent("curve.csv"), encoding: .utf8).split(separator: "\n")
        let header = "step,loss,lr,grad_norm,tokens_seen,elapsed_s,val/loss,val/perplexity,val/nll,val/accuracy"
        XCTAssertEqual(lines.first.map(String.init), header)
        let rows = lines.dropFirst().map(cells)
        // Every 3rd step, plus the evaluation steps 5, 10 and 12 (the last).
        XCTAssertEqual(rows.map { Int($0[0])! }, [3, 5, 6, 9, 10, 12])
        let stepLog = Dictionary(uniqueKeysWithValues: try logRecords(run.dir, kind: "step").map { (Int(number($0, "step")), $0) })
        let evals = Dictionary(uniqueKeysWithValues: run.evaluations.map { ($0.step, $0.metrics) })
        var lastElapsed = 0.0
        for row in rows {
            XCTAssertEqual(row.count, 10)
            let step = Int(row[0])!, record = try XCTUnwrap(stepLog[step])
            XCTAssertEqual(Double(row[1])!, number(record, "loss"), accuracy: 1e-12 * abs(number(record, "loss")))
            XCTAssertEqual(Double(row[2])!, number(record, "lr"), accuracy: 1e-12 * number(record, "lr"))
            XCTAssertEqual(Double(row[3])!, number(record, "grad_norm"), accuracy: 1e-12 * number(record, "grad_norm"))
            XCTAssertEqual(Int(row[4])!, step * o.train.batchSize * o.model.blockSize)
            let elapsed = Double(row[5])!
            XCTAssertGreaterThanOrEqual(elapsed, lastElapsed)
            lastElapsed = elapsed
            if let metrics = evals[step] {
                for (i, name) in ["val/loss", "val/perplexity", "val/nll", "val/accuracy"].enumerated() {
                    XCTAssertEqual(Double(row[6 + i]), metrics[name], "\(name) at step \(step)")
                }
            } else {
                XCTAssertEqual(Array(row[6...]), ["", "", "", ""], "no evaluation at step \(step)")
            }
        }

        // A resumed run appends under the same header; a metric the first evaluation did not
        // report (val/macro_f1) gets no column, a missing one (val/accuracy) an empty cell.
        var resume = SessionOptions()
        resume.resume = run.dir.path
        resume.allowConfigChange = true
        resume.data = .text(TrainingTests.corpus)
        resume.overrides = ["train.steps=17", "evaluators=perplexity,macro_f1"]
        var secondEvaluations: [[String: Double]] = []
        resume.progress = { p in
            if p.kind == .evaluation { secondEvaluations.append(Dictionary(uniqueKeysWithValues: p.metrics.map { ($0.name, $0.value) })) }
            return .proceed
        }
        let resumed = try Session(resume)
        XCTAssertEqual(resumed.state.step, 12)
        XCTAssertEqual(try resumed.train().steps, 17)
        let all = try String(contentsOf: run.dir.appendingPathComponent("curve.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(all.filter { $0.hasPrefix("step,") }.count, 1, "one header")
        XCTAssertEqual(all.count, lines.count + 2, "rows of steps 15 and 17 appended")
        let appended = all.suffix(2).map(cells)
        XCTAssertEqual(appended.map { Int($0[0])! }, [15, 17])
        XCTAssertEqual(appended.map(\.count), [10, 10])
        let m = try XCTUnwrap(secondEvaluations.last)
        XCTAssertEqual(Double(appended[1][6]), m["val/loss"])
        XCTAssertEqual(Double(appended[1][7]), m["val/perplexity"])
        XCTAssertEqual(appended[1][9], "", "val/accuracy was not reported")
        XCTAssertNotNil(m["val/macro_f1"], "reported, but it has no column (rows keep 10 cells)")
    }

    /// csv_log and jsonl_log share their file handling (plugins/common/aglm_log_util.h): an
    /// empty name is refused at creation, an unwritable path when training starts, each with
    /// the reason; an absolute path is used as is.
    func testLogCallbacksReportFileProblems() throws {
        for name in ["csv_log", "jsonl_log"] {
            XCTAssertThrowsError(try callback(name, ["file": .string(""), "every": .number(1)]), name) { error in
                XCTAssertTrue("\(error)".contains("file must not be empty"), "\(name): \(error)")
            }
            let missing = "no-such-dir/log.out"
            XCTAssertThrowsError(try train(try options(steps: 2, evalInterval: 0, callbacks: [(name, ["file": .string(missing), "every": .number(1)])])),
                                 name) { error in
                XCTAssertTrue("\(error)".contains("cannot open '") && "\(error)".contains(missing + "' for appending"),
                              "\(name): \(error)")
            }
            let absolute = try PluginBuilder.temporaryDirectory("abs").appendingPathComponent("log.out")
            let run = try train(try options(steps: 2, evalInterval: 0, callbacks: [(name, ["file": .string(absolute.path), "every": .number(1)])]))
            XCTAssertFalse(FileManager.default.fileExists(atPath: run.dir.appendingPathComponent("log.out").path), name)
            let text = try String(contentsOf: absolute, encoding: .utf8)
            XCTAssertTrue(text.hasPrefix(name == "csv_log" ? "step," : "{\"event\":\"train_begin\""), "\(name): \(text.prefix(60))")
        }
    }

    // MARK: - dynamic_accumulation

    func testDynamicAccumulationDoublesAboveAndHalvesBelowTheWaterMarks() throws {
        func accumulation(_ dir: URL) throws -> [Int] {
            try logRecords(dir, kind: "step").map { Int(number($0, "accumulation_steps")) }
        }
        let rssMiB = Double(ProcessStats.residentBytes) / 1048576
        XCTAssertGreaterThan(rssMiB, 1, "the host must report resident memory")

        // High water 1 MiB: the process is always above it, so the count doubles after every
        // step up to max_steps 4 (step 1 runs with the configured 1).
        let up: [String: ParameterValue] = ["high_water_mb": .number(1), "low_water_mb": .number(0), "max_steps": .number(4)]
        let upRun = try train(try options(steps: 6, evalInterval: 0, callbacks: [("dynamic_accumulation", up)]))
        XCTAssertEqual(try accumulation(upRun.dir), [1, 2, 4, 4, 4, 4])

        // Low water a hundred times the current RSS: always below, so from 8 it halves to 1.
        let down: [String: ParameterValue] = ["high_water_mb": .number(rssMiB * 200), "low_water_mb": .number(rssMiB * 100),
                                              "max_steps": .number(8)]
        var o = try options(steps: 6, evalInterval: 0, callbacks: [("dynamic_accumulation", down)])
        o.train.accumulationSteps = 8
        let downRun = try train(o)
        XCTAssertEqual(try accumulation(downRun.dir), [8, 4, 2, 1, 1, 1])

        // The effective batch is unchanged: the same sequences, only split differently.
        let fixed = try train(try options(steps: 6, evalInterval: 0, callbacks: []))
        XCTAssertEqual(upRun.result.finalLoss, fixed.result.finalLoss, accuracy: 2e-3)
        XCTAssertEqual(downRun.result.finalLoss, fixed.result.finalLoss, accuracy: 2e-3)
    }

    func testDynamicAccumulationRejectsAnEmptyBand() throws {
        XCTAssertThrowsError(try callback("dynamic_accumulation", ["high_water_mb": .number(100), "low_water_mb": .number(100),
                                                                   "max_steps": .number(4)])) { error in
            XCTAssertTrue("\(error)".contains("low_water_mb < high_water_mb"), "\(error)")
        }
    }
}
