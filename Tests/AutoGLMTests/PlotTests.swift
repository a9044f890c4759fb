import AutoGLM
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// `autoglm plot` and the library behind it (Sources/AutoGLM/Plot): the run-log reader, the
/// nice-number axes, the comparison chart, and SVG/PNG output checked as files.
final class PlotTests: XCTestCase {
    /// A config record like the trainer's first line.
    private static func configLine(attention: String, optimizer: String) -> String {
        #"{"attention":{"name":"\#(attention)","block_q":64},"optimizer":{"name":"\#(optimizer)","lr":0.001,"betas":[0.9,0.99]},"#
            + #""train":{"steps":30},"callbacks":[]}"#
    }

    /// A small synthetic log: steps 10, 20, 30 (loss falling, lr rising) and evaluations at 10
    /// and 30.
    private static func log(attention: String = "flash", optimizer: String = "adamw", lossScale: Double = 1) -> String {
        var lines = [configLine(attention: attention, optimizer: optimizer)]
        for step in [10, 20, 30] {
            lines.append(#"{"kind":"step","step":\#(step),"loss":\#(4 * lossScale / Double(step) * 10),"lr":\#(1e-4 * Double(step)),"#
                         + #""grad_norm":0.5,"tokens_per_s":1000,"elapsed_s":\#(Double(step) / 10),"accumulation_steps":1}"#)
            if step != 20 {
                lines.append(#"{"kind":"eval","step":\#(step),"elapsed_s":\#(Double(step) / 10),"val/loss":\#(4.2 * lossScale / Double(step) * 10),"val/perplexity":null}"#)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func parse(_ text: String, name: String = "run") throws -> RunLog {
        try RunLog(parsing: Data(text.utf8), path: "/runs/\(name)/log.jsonl", name: name)
    }

    /// Writes `text` as `dir/log.jsonl` in a new run directory named `name`.
    private func runDirectory(_ name: String, _ text: String) throws -> URL {
        let dir = try PluginBuilder.temporaryDirectory("plot").appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: dir.appendingPathComponent("log.jsonl"))
        return dir
    }

    // MARK: - reader

    func testReaderReadsTheConfigStepsAndEvaluations() throws {
        let run = try parse(Self.log() + #"{"kind":"checkpoint","step":30}"# + "\n", name: "a")
        XCTAssertEqual(run.config["attention.name"], "flash")
        XCTAssertEqual(run.config["optimizer.name"], "adamw")
        XCTAssertEqual(run.config["optimizer.lr"], "0.001")
        XCTAssertEqual(run.config["optimizer.betas"], "[0.9, 0.99]")
        XCTAssertEqual(run.label, "a (flash, adamw)")
        XCTAssertEqual(run.steps.map(\.step), [10, 20, 30], "the unknown kind is skipped")
        XCTAssertEqual(run.steps[1], RunLog.Step(step: 20, loss: 2, lr: 2e-3, gradNorm: 0.5, tokensPerSecond: 1000, elapsedSeconds: 2))
        XCTAssertEqual(run.evaluations.map(\.step), [10, 30])
        XCTAssertEqual(run.metric("val/loss").map(\.value), [4.2, 1.4], accuracy: 1e-12)
        XCTAssertFalse(run.droppedPartialLine)
    }

    func testReaderTurnsNullIntoNaN() throws {
        let run = try parse(Self.configLine(attention: "flash", optimizer: "adamw") + "\n"
                            + #"{"kind":"step","step":1,"loss":null,"lr":0.001,"grad_norm":null}"# + "\n")
        XCTAssertTrue(run.steps[0].loss.isNaN)
        XCTAssertTrue(run.steps[0].gradNorm.isNaN)
        XCTAssertTrue(run.steps[0].tokensPerSecond.isNaN, "a missing number is NaN too")
        XCTAssertEqual(run.steps[0].lr, 0.001)
        XCTAssertTrue(try parse(Self.log()).evaluations[0].metrics["val/perplexity"]!.isNaN)
    }

    func testReaderToleratesARunStillBeingWritten() throws {
        let cut = try parse(Self.log() + #"{"kind":"step","step":40,"lo"#)
        XCTAssertTrue(cut.droppedPartialLine)
        XCTAssertEqual(cut.steps.map(\.step), [10, 20, 30])
        // A last line that is complete but has no newline yet is kept.
        let whole = try parse(Self.log() + #"{"kind":"step","step":40,"loss":1}"#)
        XCTAssertFalse(whole.droppedPartialLine)
        XCTAssertEqual(whole.steps.map(\.step), [10, 20, 30, 40])
    }

    func testReaderRefusesWhatIsNotARunLog() throws {
        func refusal(_ text: String) -> String {
            do { _ = try parse(text); return "accepted" } catch { return "\(error)" }
        }
        let png = String(decoding: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13], as: UTF8.self)
        for garbage in [png, "name,loss\n1,2\n", "[1, 2, 3]\n", "{\n  \"model\": 1\n}\n"] {
            XCTAssertTrue(refusal(garbage).contains("/runs/run/log.jsonl' is not an AutoGLM run log"), refusal(garbage))
        }
        XCTAssertTrue(refusal(#"{"kind":"step","step":1}"# + "\n").contains("its first line is a \"step\" record"))
        XCTAssertTrue(refusal("").contains("is empty"))
        let config = Self.configLine(attention: "flash", optimizer: "adamw") + "\n"
        XCTAssertTrue(refusal(config + "garbage\n" + #"{"kind":"step","step":1}"# + "\n").contains("line 2 is not a JSON object: the log is corrupt"))
        XCTAssertTrue(refusal(config + #"{"kind":"step","loss":1}"# + "\n").contains("line 2: a step record needs an integer \"step\""))
        XCTAssertTrue(refusal(config + #"{"kind":"step","step":1,"loss":"low"}"# + "\n").contains("\"loss\" is low, not a number"))
        XCTAssertTrue(refusal(config + #"{"step":1}"# + "\n").contains("line 2 has no \"kind\""))

        XCTAssertThrowsError(try RunLog(contentsOf: "/no/such/run")) { XCTAssertTrue("\($0)".contains("does not exist"), "\($0)") }
        let empty = try PluginBuilder.temporaryDirectory("plot")
        XCTAssertThrowsError(try RunLog(contentsOf: empty.path)) { XCTAssertTrue("\($0)".contains("has no log.jsonl"), "\($0)") }
    }

    func testReaderReadsARunDirectoryOrItsLogFile() throws {
        let dir = try runDirectory("r7", Self.log(attention: "causal_dense"))
        XCTAssertEqual(try RunLog(contentsOf: dir.path).label, "r7 (causal_dense, adamw)")
        XCTAssertEqual(try RunLog(contentsOf: dir.appendingPathComponent("log.jsonl").path).name, "r7")
    }

    // MARK: - axes

    func testNiceNumbers() {
        // Heckbert's rounding: 1 below 1.5, 2 below 3, 5 below 7, else 10 (times the power of ten).
        let cases: [(Double, Double)] = [(1, 1), (1.4, 1), (1.6, 2), (2.9, 2), (3.1, 5), (6.9, 5), (7.2, 10), (0.073, 0.1),
                                         (340, 500), (42.86, 50), (0.0021, 0.002)]
        for (x, nice) in cases { XCTAssertEqual(AxisTicks.niceNumber(x), nice, accuracy: nice * 1e-12, "\(x)") }
    }

    func testLinearTicksCoverTheDataInNiceSteps() {
        let steps = AxisTicks.linear(min: 0, max: 300, count: 8)  // step nice(300 / 7 = 42.9) = 50
        XCTAssertEqual(steps.labels, ["0", "50", "100", "150", "200", "250", "300"])
        XCTAssertEqual(steps.lower, 0)
        XCTAssertEqual(steps.upper, 300)

        let loss = AxisTicks.linear(min: 2.31, max: 4.22)  // step nice(1.91 / 5 = 0.38) = 0.5
        XCTAssertEqual(loss.labels, ["2.0", "2.5", "3.0", "3.5", "4.0", "4.5"])
        XCTAssertEqual(loss.values, [2, 2.5, 3, 3.5, 4, 4.5], accuracy: 1e-12)

        let lr = AxisTicks.linear(min: 0, max: 1e-3)  // step 2e-4: every label in the e-notation
        XCTAssertEqual(lr.labels, ["0", "2e-4", "4e-4", "6e-4", "8e-4", "1e-3"])
        XCTAssertEqual(AxisTicks.linear(min: 0, max: 1.2e-3).labels, ["0", "2e-4", "4e-4", "6e-4", "8e-4", "1e-3", "1.2e-3"])
        XCTAssertEqual(AxisTicks.linear(min: -0.7, max: 1.3).labels, ["-1.0", "-0.5", "0.0", "0.5", "1.0", "1.5"])
        XCTAssertEqual(AxisTicks.linear(min: 0, max: 3e6).labels, ["0", "5e5", "1e6", "1.5e6", "2e6", "2.5e6", "3e6"])

        let flat = AxisTicks.linear(min: 5, max: 5)  // one value: widened around it
        XCTAssertLessThan(flat.lower, 5)
        XCTAssertGreaterThan(flat.upper, 5)
    }

    func testLogTicksUseOneTwoFiveOrDecades() {
        let loss = AxisTicks.logarithmic(min: 1.2, max: 9)  // under a decade: every integer mantissa
        XCTAssertEqual(loss.labels, ["2", "3", "4", "5", "6", "7", "8", "9"])
        XCTAssertTrue(loss.logarithmic)
        XCTAssertLessThan(loss.lower, 1.2)
        XCTAssertGreaterThan(loss.upper, 9)
        // 2.3 to 4.2 holds only the mantissas 3 and 4: linear steps of nice(1.9 / 5) = 0.5 instead.
        let narrow = AxisTicks.logarithmic(min: 2.3, max: 4.2)
        XCTAssertEqual(narrow.labels, ["2.5", "3.0", "3.5", "4.0"])
        XCTAssertTrue(narrow.logarithmic)
        let lr = AxisTicks.logarithmic(min: 1e-5, max: 1e-2)  // three decades: 1, 2, 5
        XCTAssertEqual(lr.labels, ["1e-5", "2e-5", "5e-5", "1e-4", "2e-4", "5e-4", "1e-3", "2e-3", "5e-3", "1e-2"])
        let wide = AxisTicks.logarithmic(min: 0.1, max: 1e7)  // eight decades: every other decade
        XCTAssertEqual(wide.labels, ["1e0", "1e2", "1e4", "1e6"])
    }

    // MARK: - chart and files

    func testComparisonChartOverlaysTheRuns() throws {
        let a = try parse(Self.log(), name: "a"), b = try parse(Self.log(attention: "causal_dense", optimizer: "lion", lossScale: 1.1), name: "b")
        let chart = try RunComparisonChart.make([a, b])
        XCTAssertEqual(chart.title, "Training curves: a vs b")
        XCTAssertEqual(chart.panels.map(\.title), ["Loss", "Learning rate"])
        XCTAssertEqual(chart.panels[0].series.map(\.label), ["a (flash, adamw) train loss", "a (flash, adamw) val loss",
                                                             "b (causal_dense, lion) train loss", "b (causal_dense, lion) val loss"])
        XCTAssertEqual(chart.panels[0].series[3].points.map(\.x), [10, 30])
        XCTAssertEqual(chart.panels[0].series[3].points.map(\.y), [4.62, 1.54], accuracy: 1e-12)
        XCTAssertEqual(chart.panels[1].series[0].points.map(\.y), [1e-3, 2e-3, 3e-3], accuracy: 1e-15)
        XCTAssertNotEqual(chart.panels[0].series[0].style.color, chart.panels[0].series[2].style.color, "one colour per run")
        XCTAssertEqual(chart.legend.map(\.label), ["a (flash, adamw)", "b (causal_dense, lion)", "train loss", "val loss"])
        XCTAssertEqual(chart.xRange, 10...30)

        XCTAssertThrowsError(try RunComparisonChart.make([try parse(Self.configLine(attention: "x", optimizer: "y") + "\n")])) {
            XCTAssertTrue("\($0)".contains("no step or eval records"), "\($0)")
        }
    }

    func testRendersSVGAndPNGOfTheRequestedSize() throws {
        let a = try runDirectory("a", Self.log())
        let b = try runDirectory("b", Self.log(attention: "causal_dense", lossScale: 1.2) + #"{"kind":"step","st"#)
        var options = RunComparisonChart.Options()
        (options.width, options.height, options.logY) = (640, 480, true)
        let chart = try RunComparisonChart.make([try RunLog(contentsOf: a.path), try RunLog(contentsOf: b.path)], options: options)
        let out = try PluginBuilder.temporaryDirectory("plot-out")
        let svg = out.appendingPathComponent("cmp.svg"), png = out.appendingPathComponent("cmp.png")
        try CairoChartRenderer.write(chart, format: .svg, to: svg.path)
        try CairoChartRenderer.write(chart, format: .png, to: png.path)

        let document = try XMLDocument(contentsOf: svg)
        let root = try XCTUnwrap(document.rootElement())
        XCTAssertEqual(root.name, "svg")
        // (FoundationXML's attribute(forName:) misses attributes of an element in a namespace.)
        func attribute(_ name: String) -> String? { root.attributes?.first { $0.name == name }?.stringValue }
        XCTAssertEqual(attribute("width"), "640")
        XCTAssertEqual(attribute("height"), "480")
        XCTAssertGreaterThan(try document.nodes(forXPath: "//*[local-name()='path']").count, 20, "lines, grid and glyphs")

        let bytes = Array(try Data(contentsOf: png))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
        func bigEndian(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        XCTAssertEqual(bigEndian(8), 13, "IHDR length")
        XCTAssertEqual(String(decoding: bytes[12..<16], as: UTF8.self), "IHDR")
        XCTAssertEqual(bigEndian(16), 640)
        XCTAssertEqual(bigEndian(20), 480)

        XCTAssertThrowsError(try CairoChartRenderer.write(chart, format: .png, to: out.path + "/missing/x.png")) {
            XCTAssertTrue("\($0)".contains("missing' does not exist"), "\($0)")
        }
    }

    func testPlotCommandWritesTheRequestedFiles() throws {
        let executable = (PluginSearchPath.bundledDirectory ?? ".") + "/autoglm"
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: executable), "build the autoglm executable first")
        let a = try runDirectory("a", Self.log()), b = try runDirectory("b", Self.log(attention: "gqa"))
        let prefix = try PluginBuilder.temporaryDirectory("plot-cli").appendingPathComponent("cmp").path
        let ok = try PluginBuilder.run([executable, "plot", a.path, b.path, "--out", prefix, "--format", "png", "--size", "900x600"])
        XCTAssertEqual(ok.status, 0, ok.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: prefix + ".png"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: prefix + ".svg"), "--format png only")

        let badSize = try PluginBuilder.run([executable, "plot", a.path, "--size", "900"])
        XCTAssertNotEqual(badSize.status, 0)
        XCTAssertTrue(badSize.output.contains("--size must be WIDTHxHEIGHT"), badSize.output)
        let notARun = try PluginBuilder.run([executable, "plot", a.path, "/"])
        XCTAssertNotEqual(notARun.status, 0)
        XCTAssertTrue(notARun.output.contains("has no log.jsonl"), notARun.output)
    }
}

/// Element-wise equality within `accuracy`, with the failing arrays in the message.
private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, _ message: String = "",
                            file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertTrue(a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= accuracy }, "\(a) != \(b) \(message)",
                  file: file, line: line)
}
