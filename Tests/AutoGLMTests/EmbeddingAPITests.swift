import AutoGLM
import Foundation
import XCTest

/// The C embedding API (include/autoglm/autoglm.h, libautoglm) as C and Python programs use it:
/// the programs are compiled with the system `cc` against the in-tree header and library, and
/// run on the test corpus with tiny models.
final class EmbeddingAPITests: XCTestCase {
    /// The header and the library linked under their C names, once per test.
    private func setUpLibrary() throws -> (work: URL, libraries: URL) {
        (try PluginBuilder.temporaryDirectory("capi"), try EmbeddingLibrary.linkDirectory())
    }

    func testHeaderCompilesWarningFreeAsC99AndCxx17() throws {
        let dir = try PluginBuilder.temporaryDirectory()
        let fixtures = PluginBuilder.fixturesDir
        let c = try PluginBuilder.run(["cc", "-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-c", "-I", PluginBuilder.includeDir,
                                       "-o", dir.appendingPathComponent("c.o").path, fixtures + "/api_header_c.c"])
        XCTAssertEqual(c.status, 0, c.output)
        let cxx = try PluginBuilder.run(["c++", "-std=c++17", "-Wall", "-Wextra", "-pedantic", "-Werror", "-c", "-I", PluginBuilder.includeDir,
                                         "-o", dir.appendingPathComponent("cxx.o").path, fixtures + "/api_header_cpp.cpp"])
        XCTAssertEqual(cxx.status, 0, cxx.output)
    }

    func testTheLibraryExportsExactlyTheHeadersFunctionsUnderAVersionedSoname() throws {
        let library = try EmbeddingLibrary.file()
        let declared = try EmbeddingLibrary.declaredFunctions()
        XCTAssertGreaterThan(declared.count, 30)
        XCTAssertEqual(Set(declared).count, declared.count, "each function declared once")
        let nm = try PluginBuilder.run(["nm", "-D", "--defined-only", library])
        XCTAssertEqual(nm.status, 0, nm.output)
        // Global symbols only (an upper-case type); the lower-case ones are local entries such as
        // libdispatch's thread-local slot.
        let exported = nm.output.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count == 3, fields[1].first?.isUppercase == true else { return nil }
            return String(fields[2])
        }
        XCTAssertEqual(Set(exported), Set(declared), "exported but not declared: \(Set(exported).subtracting(declared)); declared but not exported: \(Set(declared).subtracting(exported))")
        let dynamic = try PluginBuilder.run(["readelf", "-d", library])
        let major = try EmbeddingLibrary.apiVersion().major
        XCTAssertTrue(dynamic.output.contains("Library soname: [libautoglm.so.\(major)]"), "soname tracks AGLM_API_MAJOR:\n\(dynamic.output)")
        XCTAssertFalse(dynamic.output.contains("libswiftCore"), "the Swift runtime is linked in, not needed at run time")
    }

    func testTheCExampleTrainsWithItsOwnOptimizerAndItsCheckpointLoadsBack() throws {
        let (work, libraries) = try setUpLibrary()
        let source = PluginBuilder.repoRoot.appendingPathComponent("examples/c/train.c").path
        XCTAssertLessThanOrEqual(try String(contentsOfFile: source, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).count, 150)
        let program = try EmbeddingLibrary.compile(source, libraries: libraries, into: work)
        let run = work.appendingPathComponent("run").path
        let trained = try EmbeddingLibrary.runProgram([program, try EmbeddingLibrary.corpus(in: work), run,
                                                       "train.steps=60", "train.eval_interval=30"])
        try checkTraining(trained, steps: 60)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/final/optimizer.safetensors"), trained)

        let loaded = try EmbeddingLibrary.runProgram([program, "--load", run + "/final"])
        XCTAssertTrue(loaded.contains("trained steps 60"), loaded)
        XCTAssertEqual(line(loaded, "sample: "), line(trained, "sample: "), "the loaded checkpoint samples what the trained session sampled")
        XCTAssertNotNil(line(trained, "sample: "))
    }

    func testTheREADMEQuotesTheCExample() throws {
        let readme = try String(contentsOf: PluginBuilder.repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOf: PluginBuilder.repoRoot.appendingPathComponent("examples/c/train.c"), encoding: .utf8)
        XCTAssertTrue(readme.contains("```c\n" + source + "```"), "README.md's 'Use AutoGLM from C' example differs from examples/c/train.c")
    }

    func testThePythonExampleTrainsThroughCtypes() throws {
        let python = try PluginBuilder.run(["python3", "--version"])
        try XCTSkipUnless(python.status == 0, "python3 is not installed: the ctypes example is not run")
        let work = try PluginBuilder.temporaryDirectory("capi-py")
        let script = PluginBuilder.repoRoot.appendingPathComponent("examples/python/train.py").path
        let library = try EmbeddingLibrary.file()
        let run = work.appendingPathComponent("run").path
        let trained = try EmbeddingLibrary.runProgram(["python3", script, "--lib", library, try EmbeddingLibrary.corpus(in: work), run,
                                                       "train.steps=40", "train.eval_interval=20"])
        try checkTraining(trained, steps: 40)
        let loaded = try EmbeddingLibrary.runProgram(["python3", script, "--lib", library, "--load", run + "/final"])
        XCTAssertTrue(loaded.contains("trained steps 40"), loaded)
        XCTAssertEqual(line(loaded, "sample: "), line(trained, "sample: "))
    }

    func testInProcessComponentsAndFunctionsFromC() throws {
        let (work, libraries) = try setUpLibrary()
        let program = try EmbeddingLibrary.compile(PluginBuilder.fixturesDir + "/api_inprocess.c", libraries: libraries, into: work)
        let output = try EmbeddingLibrary.runProgram([program, try EmbeddingLibrary.corpus(in: work), work.path])
        XCTAssertTrue(output.hasPrefix("ok "), output)
        // The schedule the program registered (my_lr: max(0.05, 0.3·(1 − step/16))) drove its run:
        // the lr logged at every step is the formula's, to the bit.
        let log = try String(contentsOf: work.appendingPathComponent("schedule/log.jsonl"), encoding: .utf8)
        let lrs = log.split(separator: "\n").filter { $0.contains("\"kind\":\"step\"") }.map { LogLineNumber.value("lr", in: $0) }
        XCTAssertEqual(lrs, (0..<16).map { max(0.05, 0.3 * (1 - Double($0) / 16)) })
    }

    func testTwoSessionsOnTwoThreadsFromCGiveWhatEachGivesAlone() throws {
        let (work, libraries) = try setUpLibrary()
        let program = try EmbeddingLibrary.compile(PluginBuilder.fixturesDir + "/api_threads.c", libraries: libraries, into: work)
        let output = try EmbeddingLibrary.runProgram([program, try EmbeddingLibrary.corpus(in: work), work.path])
        XCTAssertTrue(output.hasPrefix("ok "), output)
    }

    func testEveryFunctionRefusesNullGarbageAndFreedArgumentsWithAStatus() throws {
        let (work, libraries) = try setUpLibrary()
        let source = PluginBuilder.fixturesDir + "/api_misuse.c"
        let text = try String(contentsOfFile: source, encoding: .utf8)
        for function in try EmbeddingLibrary.declaredFunctions() {
            XCTAssertTrue(text.contains(function + "("), "api_misuse.c does not call \(function)")
        }
        let program = try EmbeddingLibrary.compile(source, libraries: libraries, into: work)
        let output = try EmbeddingLibrary.runProgram([program, work.path])
        XCTAssertTrue(output.hasPrefix("ok "), output)
    }

    /// Checks a training program's output: its logged loss falls, and it reports a finite
    /// validation loss below the first step's loss after `steps` steps.
    private func checkTraining(_ output: String, steps: Int, file: StaticString = #filePath, line lineNumber: UInt = #line) throws {
        let losses = output.split(separator: "\n").filter { $0.hasPrefix("step ") && $0.contains(" loss ") }.compactMap {
            Double($0.split(separator: " ")[3])
        }
        let first = try XCTUnwrap(losses.first, output, file: file, line: lineNumber)
        let last = try XCTUnwrap(losses.last, file: file, line: lineNumber)
        XCTAssertLessThan(last, first - 0.5, "the loss falls: \(losses)", file: file, line: lineNumber)
        let val = try XCTUnwrap(line(output, "val loss ").flatMap(Double.init), output, file: file, line: lineNumber)
        XCTAssertTrue(val.isFinite && val < first, "val loss \(val)", file: file, line: lineNumber)
        XCTAssertTrue(output.contains("trained steps \(steps)"), output, file: file, line: lineNumber)
    }

    /// The rest of the first line of `output` that starts with `prefix`.
    private func line(_ output: String, _ prefix: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }
}
