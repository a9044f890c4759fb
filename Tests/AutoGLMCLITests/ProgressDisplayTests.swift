@testable import AutoGLM
@testable import autoglm
import Foundation
import XCTest

/// `autoglm train`'s display with an injected terminal (or not), width and clock: redraw codes,
/// throttling, lines above the bar, the plain-line fallback, JSON lines.
final class ProgressDisplayTests: XCTestCase {
    /// Collects what the display writes, and drives its clock.
    private final class Capture: @unchecked Sendable {
        var status = ""
        var output = ""
        var now = 0.0
        var columns = 80
    }

    private func display(_ mode: ProgressDisplay.Mode, terminal: Bool = true, unicode: Bool = false) -> (ProgressDisplay, Capture) {
        let c = Capture()
        let status = TextStream(isTerminal: terminal, columns: { c.columns }, write: { c.status += $0 })
        let output = TextStream(isTerminal: false, columns: { 80 }, write: { c.output += $0 })
        return (ProgressDisplay(mode: mode, status: status, output: output, unicode: unicode, clock: { c.now }), c)
    }

    private func progress(_ kind: TrainingProgress.Kind, step: Int = 0, of steps: Int = 100, loss: Double = 2.5,
                          logged: Bool = true, metrics: [Metric] = []) -> TrainingProgress {
        TrainingProgress(kind: kind, step: step, maxSteps: steps, loss: loss, lr: 1e-3, gradNorm: 0.5, stepSeconds: 0.01,
                         tokensPerSecond: 12_345, elapsed: Double(step), logged: logged, metrics: metrics)
    }

    /// The states a redrawn line went through: the text after each "\r ESC[K", up to the next.
    private func redraws(_ text: String) -> [String] {
        text.components(separatedBy: "\r\u{1B}[K").dropFirst().map { $0.components(separatedBy: "\n")[0] }
    }

    func testBarRedrawsInPlaceAtMostTenTimesASecondAndFitsTheWidth() {
        let (d, c) = display(.bar)
        c.columns = 60
        for step in 1...100 {
            c.now = Double(step) * 0.03
            d.report(progress(.step, step: step, logged: step % 10 == 0))
        }
        d.end()
        let states = redraws(c.status)
        XCTAssertTrue(c.status.hasPrefix("\r\u{1B}[Kstep 1/100 ["), c.status)
        XCTAssertTrue(c.status.hasSuffix("\n"))
        XCTAssertEqual(c.status.filter { $0 == "\n" }.count, 1, "one line, redrawn")
        // 3 s of steps at 0.1 s between redraws (the first and the last always drawn).
        XCTAssertTrue((25...36).contains(states.count), "\(states.count) redraws")
        XCTAssertTrue(states.allSatisfy { $0.count <= 59 }, "one column kept free: \(states.map(\.count))")
        // At 59 columns lr and tokens/s make room for a bar of 16 cells.
        XCTAssertEqual(states.last, "step 100/100 [################] 100% | loss 2.5000 | ETA 0s")
        XCTAssertTrue(c.output.isEmpty)
    }

    func testEvaluationAndLogLinesGoAboveTheBarWhichShowsTheValLossAfter() {
        let (d, c) = display(.bar)
        c.columns = 200
        d.report(progress(.step, step: 50))
        c.now = 1
        d.report(progress(.evaluating(batch: 37, of: 200), step: 50))
        XCTAssertTrue(redraws(c.status).last!.hasPrefix("evaluating 37/200 batches ["), c.status)
        XCTAssertTrue(redraws(c.status).last!.contains("step 50/100"))
        c.now = 2
        d.report(progress(.evaluation, step: 50, metrics: [Metric(name: "val/loss", value: 2.25), Metric(name: "val/perplexity", value: 9.49)]))
        d.log(.warning, "early_stopping: patience almost used up")
        d.log(.debug, "not shown")
        c.now = 3
        d.report(progress(.step, step: 51))
        d.end()
        let lines = c.status.components(separatedBy: "\n")
        XCTAssertEqual(lines[0].components(separatedBy: "\r\u{1B}[K").last, "eval at step 50: val/loss 2.2500, val/perplexity 9.4900")
        XCTAssertTrue(lines[1].hasSuffix("\r\u{1B}[Kwarning: early_stopping: patience almost used up"), lines[1])
        XCTAssertFalse(c.status.contains("not shown"))
        let last = redraws(c.status).last!
        XCTAssertTrue(last.hasPrefix("step 51/100 [") && last.contains("| val 2.2500 |"), last)
    }

    func testDataLoadingIsShownAndClearedWhenTrainingStarts() {
        let (d, c) = display(.bar, unicode: true)
        d.report(progress(.readingData(bytes: 3 << 20, of: 12 << 20)))
        c.now = 1
        d.report(progress(.tokenizing(done: 1, of: 4)))
        XCTAssertEqual(redraws(c.status), ["reading data [███████▌                      ]  25% | 3.0/12.0 MB",
                                           "tokenizing [███████▌                      ]  25%"])
        d.end()
        XCTAssertTrue(c.status.hasSuffix("25%\n"))
    }

    func testPlainLinesWhenNotATerminal() {
        let (d, c) = display(.lines, terminal: false)
        for step in 1...30 { d.report(progress(.step, step: step, of: 30, logged: step == 1 || step % 10 == 0)) }
        // A short evaluation prints no progress of its own; a long one a line every 10 s.
        for batch in 0...4 { c.now = 100 + Double(batch); d.report(progress(.evaluating(batch: batch, of: 4), step: 30, of: 30)) }
        for batch in 0...30 { c.now = 200 + Double(batch); d.report(progress(.evaluating(batch: batch, of: 30), step: 31, of: 30)) }
        d.report(progress(.evaluation, step: 30, of: 30, metrics: [Metric(name: "val/loss", value: 2)]))
        d.end()
        XCTAssertFalse(c.status.contains("\u{1B}") || c.status.contains("\r"), "no terminal codes in a log")
        XCTAssertEqual(c.status.split(separator: "\n").map(String.init), [
            "step     1/30 | loss 2.5000 | 12.3k tok/s | lr 1.00e-03 | ETA 29s",
            "step    10/30 | loss 2.5000 | 12.3k tok/s | lr 1.00e-03 | ETA 20s",
            "step    20/30 | loss 2.5000 | 12.3k tok/s | lr 1.00e-03 | ETA 10s",
            "step    30/30 | loss 2.5000 | 12.3k tok/s | lr 1.00e-03 | ETA 0s",
            "evaluating at step 31: 10/30 batches",
            "evaluating at step 31: 20/30 batches",
            "evaluating at step 31: 30/30 batches",
            "eval at step 30: val/loss 2.0000",
        ])
    }

    func testJSONLinesParseAndMirrorTheRunLog() throws {
        let (d, c) = display(.json)
        d.report(progress(.step, step: 1, loss: .nan))
        d.report(progress(.step, step: 2, logged: false))
        d.report(progress(.evaluating(batch: 1, of: 2), step: 2))
        d.report(progress(.evaluation, step: 2, metrics: [Metric(name: "val/loss", value: 2.25)]))
        d.log(.info, "jsonl_log: appending events to /tmp/x")
        d.finished(TrainingResult(steps: 2, finalLoss: 2.5, metrics: [Metric(name: "val/loss", value: 2.25)], seconds: 1,
                                  trainSeconds: 0.5, stoppedEarly: false), runDirectory: "runs/a")
        XCTAssertTrue(c.status.isEmpty, "json goes to standard output only")
        let records = try c.output.split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        XCTAssertEqual(records.map { $0["kind"] as? String }, ["step", "eval", "log", "done"])
        XCTAssertTrue(records[0]["loss"] is NSNull, "NaN is null")
        XCTAssertEqual(records[0]["step"] as? Int, 1)
        XCTAssertEqual(records[0]["max_steps"] as? Int, 100)
        XCTAssertEqual(records[0]["tokens_per_s"] as? Double, 12_345)
        XCTAssertEqual(records[1]["val/loss"] as? Double, 2.25)
        XCTAssertEqual(records[2]["level"] as? String, "info")
        XCTAssertEqual(records[2]["message"] as? String, "jsonl_log: appending events to /tmp/x")
        XCTAssertEqual(records[3]["run_dir"] as? String, "runs/a")
        XCTAssertEqual(records[3]["val/loss"] as? Double, 2.25)
        XCTAssertEqual(records[3]["stopped_early"] as? Bool, false)
    }

    func testQuietShowsOnlyWarningsErrorsAndTheSummary() {
        let (d, c) = display(.quiet)
        d.report(progress(.step, step: 1))
        d.report(progress(.evaluation, step: 1, metrics: [Metric(name: "val/loss", value: 2)]))
        d.log(.info, "hidden")
        d.log(.error, "shown")
        d.finished(TrainingResult(steps: 1, finalLoss: 2.5, metrics: [], seconds: 1, trainSeconds: 1, stoppedEarly: false),
                   runDirectory: "runs/q")
        XCTAssertEqual(c.status, "error: shown\n")
        XCTAssertTrue(c.output.hasPrefix("done: 1 steps in 1.0 s") && c.output.hasSuffix("run directory: runs/q\n"), c.output)
    }

    func testLocaleDecidesUnicode() {
        XCTAssertTrue(ProgressDisplay.localeIsUTF8(["LANG": "en_US.UTF-8"]))
        XCTAssertTrue(ProgressDisplay.localeIsUTF8(["LC_ALL": "C.utf8", "LANG": "C"]))
        XCTAssertFalse(ProgressDisplay.localeIsUTF8(["LC_ALL": "C", "LANG": "en_US.UTF-8"]), "LC_ALL wins")
        XCTAssertFalse(ProgressDisplay.localeIsUTF8([:]))
    }

    func testDurationsAndRates() {
        XCTAssertEqual(ProgressDisplay.duration(42.4), "42s")
        XCTAssertEqual(ProgressDisplay.duration(185), "3m05s")
        XCTAssertEqual(ProgressDisplay.duration(7620), "2h07m")
        XCTAssertEqual(ProgressDisplay.duration(.infinity), "?")
        XCTAssertEqual(ProgressDisplay.rate(950), "950")
        XCTAssertEqual(ProgressDisplay.rate(12_345), "12.3k")
        XCTAssertEqual(ProgressDisplay.rate(1_204_000), "1.20M")
        XCTAssertEqual(ProgressDisplay.amount(3 << 20, of: 12 << 20), "3.0/12.0 MB")
        XCTAssertEqual(ProgressDisplay.amount(512, of: 9 << 10), "0.5/9.0 KB")
        XCTAssertEqual(ProgressDisplay.amount(1 << 29, of: 3 << 30), "0.5/3.0 GB")
    }
}
