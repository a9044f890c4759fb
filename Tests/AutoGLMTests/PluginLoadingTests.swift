import AutoGLM
import CAutoGLM
import Foundation
import XCTest

/// The loader's version negotiation and error reporting, with plugins compiled by `cc`.
final class PluginLoadingTests: XCTestCase {
    private func failure(loading fixture: String) throws -> String {
        let dir = try PluginBuilder.temporaryDirectory()
        let path = try PluginBuilder.compileFixture(fixture, into: dir)
        let registry = PluginRegistry()
        XCTAssertFalse(registry.load(file: path), "\(fixture) should not load")
        XCTAssertEqual(registry.failures.count, 1)
        return registry.failures.first?.description ?? ""
    }

    func testWrongMajorIsNamed() throws {
        let message = try failure(loading: "wrong_major.c")
        XCTAssertTrue(message.contains("built for ABI 2, host speaks 1"), message)
        XCTAssertTrue(message.contains("wrong_major.so"), message)
    }

    func testNewerMinorIsRefused() throws {
        let message = try failure(loading: "needs_newer_minor.c")
        XCTAssertTrue(message.contains("needs host ABI 1.5 or newer, host speaks 1.\(AGLM_ABI_MINOR)"), message)
    }

    func testOlderMinorLoads() throws {
        let dir = try PluginBuilder.temporaryDirectory()
        let path = try PluginBuilder.compileFixture("old_minor.c", into: dir)
        let registry = PluginRegistry()
        XCTAssertTrue(registry.load(file: path), "\(registry.failures)")
        XCTAssertEqual(registry.libraries.first?.abi, "1.0")
    }

    func testMissingEntrySymbol() throws {
        let message = try failure(loading: "no_entry.c")
        XCTAssertTrue(message.contains("not an AutoGLM plugin: it does not export aglm_plugin_entry_v1"), message)
    }

    func testNotAnELFFile() throws {
        let dir = try PluginBuilder.temporaryDirectory()
        let path = dir.appendingPathComponent("notes.so").path
        try "just some text".write(toFile: path, atomically: true, encoding: .utf8)
        let registry = PluginRegistry()
        XCTAssertFalse(registry.load(file: path))
        let message = registry.failures.first?.description ?? ""
        XCTAssertTrue(message.contains("cannot be loaded by dlopen"), message)
        XCTAssertTrue(message.contains("notes.so"), message)
    }

    func testInitFailureCarriesThePluginMessage() throws {
        let message = try failure(loading: "init_fails.c")
        XCTAssertTrue(message.contains("init failed: could not open model weights: /nonexistent"), message)
        XCTAssertTrue(message.contains("AGLM_ERR_INTERNAL"), message)
    }

    func testAPluginCrashingInItsInitIsReportedAndTheHostGoesOn() throws {
        let message = try failure(loading: "init_crashes.c")
        XCTAssertTrue(message.contains("init_crashes.so"), message)
        XCTAssertTrue(message.contains("crashed in its entry point or init (signal 11, SIGSEGV)"), message)
        XCTAssertTrue(message.contains("autoglm plugins validate"), message)
        // This process is still here, and a good plugin next to it still loads.
        let dir = try PluginBuilder.temporaryDirectory()
        XCTAssertTrue(PluginRegistry().load(file: try PluginBuilder.compileFixture("old_minor.c", into: dir)))
    }

    func testMalformedDescriptorIsRefused() throws {
        let message = try failure(loading: "bad_desc.c")
        XCTAssertTrue(message.contains("required function step is NULL"), message)
    }

    func testDuplicateNameNamesBothFilesAndOthersStillLoad() throws {
        let dir = try PluginBuilder.temporaryDirectory()
        let a = try PluginBuilder.compileFixture("dup_a.c", into: dir)
        let b = try PluginBuilder.compileFixture("dup_b.c", into: dir)
        try PluginBuilder.compileFixture("toy_metric.c", into: dir)
        try PluginBuilder.compileFixture("init_fails.c", into: dir)
        let registry = PluginRegistry()
        registry.load(directories: [PluginDirectory(path: dir.path, origin: .commandLine)])
        let names = registry.names(kind: .evaluator)
        XCTAssertTrue(names.contains("dup_metric"))
        XCTAssertTrue(names.contains("mean_logit"), "the good plugin still loads: \(names)")
        let dup = registry.failures.first { $0.reason.contains("already registered") }
        XCTAssertNotNil(dup, "\(registry.failures)")
        let text = dup?.description ?? ""
        // dup_a.so sorts first, so dup_b.so is the one refused, and the message names both files.
        XCTAssertTrue(text.contains(URL(fileURLWithPath: a).resolvingSymlinksInPath().path), text)
        XCTAssertTrue(text.contains(URL(fileURLWithPath: b).resolvingSymlinksInPath().path), text)
        XCTAssertTrue(registry.failures.contains { $0.reason.contains("init failed") })
    }

    func testSearchPathOrder() {
        let dirs = PluginSearchPath.directories(commandLine: ["/cli"], environment: ["AUTOGLM_PLUGIN_PATH": "/env1:/env2"],
                                                config: ["/cfg"], bundled: "/bundled")
        XCTAssertEqual(dirs.map(\.path), ["/cli", "/env1", "/env2", "/cfg", "/bundled"])
        XCTAssertEqual(dirs.map(\.origin), [.commandLine, .environment, .environment, .config, .bundled])
    }

    func testBundledPluginsAllLoad() {
        let registry = PluginBuilder.bundledRegistry()
        XCTAssertTrue(registry.names(kind: .attention).contains("causal_dense"))
        XCTAssertTrue(registry.names(kind: .optimizer).contains("adamw"))
        XCTAssertTrue(registry.names(kind: .evaluator).contains("perplexity"))
        XCTAssertTrue(registry.names(kind: .callback).contains("jsonl_log"))
        let root = PluginBuilder.repoRoot.appendingPathComponent("plugins").path
        let folders = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + folder)) ?? []).contains { $0.hasSuffix(".c") }
        }
        XCTAssertEqual(registry.libraries.count, folders.count, "one library per plugins/ folder: \(folders)")
        for c in registry.allComponents { XCTAssertFalse(c.summary.isEmpty, c.name) }
    }

    func testHeadersCompileWarningFreeAsCAndCxx() throws {
        let dir = try PluginBuilder.temporaryDirectory()
        let fixtures = PluginBuilder.fixturesDir
        let c = try PluginBuilder.run(["cc", "-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-c", "-I", PluginBuilder.includeDir,
                                       "-o", dir.appendingPathComponent("c.o").path, fixtures + "/header_c.c"])
        XCTAssertEqual(c.status, 0, c.output)
        let cxx = try PluginBuilder.run(["c++", "-std=c++11", "-Wall", "-Wextra", "-pedantic", "-Werror", "-c", "-I", PluginBuilder.includeDir,
                                         "-o", dir.appendingPathComponent("cxx.o").path, fixtures + "/header_cpp.cpp"])
        XCTAssertEqual(cxx.status, 0, cxx.output)
    }
}
