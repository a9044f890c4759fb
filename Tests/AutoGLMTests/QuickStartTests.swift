import AutoGLM
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// README's "Quick start", run as written (the shell block between the quick-start markers) with
/// tiny settings: AUTOGLM_* variables, which win over the config files the commands name, make
/// every model one small block trained for 10 steps (the tensorboard callback writes its train/
/// scalars every 10) on a small corpus. Three commands are stood in for: `make build` (this
/// test's build is the build), `pip install` and the `tensorboard` server, whose event files are
/// checked instead (and read with TensorBoard's own reader when the interop venv has it).
final class QuickStartTests: XCTestCase {
    private let bundled = PluginSearchPath.bundledDirectory ?? "."

    /// The quick start's shell block.
    private func quickStart() throws -> String {
        let readme = try String(contentsOf: PluginBuilder.repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let begin = try XCTUnwrap(readme.range(of: "<!-- quick-start:begin"), "README has no quick start")
        let end = try XCTUnwrap(readme.range(of: "<!-- quick-start:end -->"))
        let block = readme[begin.upperBound..<end.lowerBound]
        let open = try XCTUnwrap(block.range(of: "```sh\n")), close = try XCTUnwrap(block.range(of: "\n```", options: .backwards))
        return String(block[open.upperBound..<close.lowerBound])
    }

    /// Width and height of a PNG file, from its IHDR chunk.
    private func pngSize(_ url: URL) throws -> (Int, Int) {
        let bytes = Array(try Data(contentsOf: url))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
        XCTAssertEqual(String(decoding: bytes[12..<16], as: UTF8.self), "IHDR")
        func bigEndian(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (bigEndian(16), bigEndian(20))
    }

    /// The first record (the resolved config) of a run's log.
    private func config(ofRun dir: URL) throws -> [String: Any] {
        let text = try String(contentsOf: dir.appendingPathComponent("log.jsonl"), encoding: .utf8)
        let first = try XCTUnwrap(text.split(separator: "\n").first)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
    }

    func testTheQuickStartWorksAsWritten() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: bundled + "/autoglm"), "build the autoglm executable first")
        let work = try PluginBuilder.temporaryDirectory("autoglm-quickstart")
        let home = work.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: work.appendingPathComponent("examples"),
                                                   withDestinationURL: PluginBuilder.repoRoot.appendingPathComponent("examples"))
        let corpus = work.appendingPathComponent("corpus.txt")
        try TrainingTests.corpus.write(to: corpus, atomically: true, encoding: .utf8)
        let standIns = """
        set -euo pipefail
        make() { if [ "${1:-}" = build ]; then return 0; fi; command make "$@"; }
        pip() { return 0; }
        tensorboard() { [ "$1" = --logdir ] && ls "$2"/*/events.out.tfevents.* > "$HOME/event-files"; }

        """
        let tiny = ["AUTOGLM_DATA_PATH=\(corpus.path)", "AUTOGLM_TRAIN_STEPS=10", "AUTOGLM_TRAIN_EVAL_BATCHES=2",
                    "AUTOGLM_TRAIN_BATCH_SIZE=2", "AUTOGLM_MODEL_N_LAYER=1", "AUTOGLM_MODEL_N_HEAD=2",
                    "AUTOGLM_MODEL_N_EMBD=16", "AUTOGLM_MODEL_BLOCK_SIZE=16"]
        let (status, output) = try PluginBuilder.run(["-i", "PATH=\(bundled):/usr/bin:/bin", "HOME=\(home.path)"] + tiny
                                                     + ["bash", "-c", standIns + (try quickStart())], in: work)
        XCTAssertEqual(status, 0, output)

        // 1, 2: two runs with different attention plugins.
        let runs = work.appendingPathComponent("runs")
        for (run, attention) in [("dense", "causal_dense"), ("alibi", "alibi")] {
            let config = try config(ofRun: runs.appendingPathComponent(run))
            XCTAssertEqual((config["attention"] as? [String: Any])?["name"] as? String, attention)
            XCTAssertEqual((config["train"] as? [String: Any])?["steps"] as? Int, 10, "the tiny settings applied")
        }
        // 3: one plot, as SVG and PNG of the default size.
        let svg = try XMLDocument(contentsOf: runs.appendingPathComponent("compare.svg"))
        let root = try XCTUnwrap(svg.rootElement())
        XCTAssertEqual(root.name, "svg")
        func attribute(_ name: String) -> String? { root.attributes?.first { $0.name == name }?.stringValue }
        XCTAssertEqual(attribute("width"), "1200")
        XCTAssertEqual(attribute("height"), "800")
        let png = try pngSize(runs.appendingPathComponent("compare.png"))
        XCTAssertEqual(png.0, 1200)
        XCTAssertEqual(png.1, 800)
        // 4: an event file per run, with the training and validation scalars.
        let files = try String(contentsOf: home.appendingPathComponent("event-files"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        XCTAssertEqual(files.count, 2, files.joined(separator: "\n"))
        for file in files {
            let path = file.hasPrefix("/") ? file : work.appendingPathComponent(file).path
            XCTAssertGreaterThan((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0, 0)
        }
        if let python = try? InteropPython.require(module: "tensorboard") {
            let script = """
            import sys
            from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
            tags = []
            for path in sys.argv[1:-1]:
                accumulator = EventAccumulator(path)
                accumulator.Reload()
                tags.append(",".join(sorted(accumulator.Tags()["scalars"])))
            open(sys.argv[-1], "w").write("\\n".join(tags))
            """
            let paths = files.map { $0.hasPrefix("/") ? $0 : work.appendingPathComponent($0).path }
            let tags = String(decoding: try InteropPython.run(python, script: script, arguments: paths), as: UTF8.self)
            for line in tags.split(separator: "\n") {
                XCTAssertTrue(line.contains("train/loss") && line.contains("val/loss"), String(line))
            }
        }
        // 5: the scaffolded optimizer was built and passed its checks.
        let plugin = home.appendingPathComponent("aglm-plugins/my_sgd")
        XCTAssertTrue(FileManager.default.fileExists(atPath: plugin.appendingPathComponent("my_sgd.so").path))
        XCTAssertTrue(output.contains("PASSED: ") && output.contains(" checks, ./my_sgd.so"), output)
        // 6: and trained a model.
        let trained = try config(ofRun: plugin.appendingPathComponent("runs/my_sgd"))
        XCTAssertEqual((trained["optimizer"] as? [String: Any])?["name"] as? String, "my_sgd")
        let record = try XCTUnwrap(try JSONSerialization.jsonObject(
            with: Data(contentsOf: plugin.appendingPathComponent("runs/my_sgd/run.json"))) as? [String: Any])
        let latest = try XCTUnwrap(record["latest"] as? String, "\(record)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: plugin.appendingPathComponent("runs/my_sgd/\(latest)/model.safetensors").path),
                      "the trained weights are checkpointed")
    }
}
