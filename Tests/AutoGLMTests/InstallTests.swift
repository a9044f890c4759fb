import AutoGLM
import Foundation
import XCTest

/// `make install`'s tree (scripts/install.sh, from the build `swift build` made) works like a
/// system library's, on its own: copied elsewhere, with the original removed and no
/// LD_LIBRARY_PATH, `autoglm train` finds its bundled plugins, a plugin author builds with
/// pkg-config, and a C program built with pkg-config runs.
final class InstallTests: XCTestCase {
    /// Runs `arguments` in `directory` without LD_LIBRARY_PATH, with PKG_CONFIG_PATH set to
    /// `prefix`'s; fails the test with the output unless it exits 0.
    @discardableResult
    private func run(_ arguments: [String], prefix: URL, in directory: URL,
                     file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let env = ["env", "-u", "LD_LIBRARY_PATH", "-u", "AUTOGLM_PLUGIN_PATH",
                   "PKG_CONFIG_PATH=" + prefix.appendingPathComponent("lib/pkgconfig").path]
        let result = try PluginBuilder.run(env + arguments, in: directory)
        XCTAssertEqual(result.status, 0, "\(arguments.joined(separator: " ")):\n\(result.output)", file: file, line: line)
        return result.output
    }

    /// `pkg-config ARGS autoglm` for `prefix`, split into arguments.
    private func pkgConfig(_ arguments: [String], prefix: URL, in directory: URL) throws -> [String] {
        try run(["pkg-config"] + arguments + ["autoglm"], prefix: prefix, in: directory)
            .split(whereSeparator: \.isWhitespace).map(String.init)
    }

    /// Installs into a fresh prefix.
    private func install(into prefix: URL) throws {
        _ = try EmbeddingLibrary.file()
        let build = PluginSearchPath.bundledDirectory ?? "."
        try run([PluginBuilder.repoRoot.appendingPathComponent("scripts/install.sh").path, "install", prefix.path, build],
                prefix: prefix, in: PluginBuilder.repoRoot)
    }

    func testTheInstalledTreeWorksOnItsOwnWithPkgConfig() throws {
        let root = try PluginBuilder.temporaryDirectory("install")
        let first = root.appendingPathComponent("first"), moved = root.appendingPathComponent("moved")
        try install(into: first)
        let major = try EmbeddingLibrary.apiVersion().major, minor = try EmbeddingLibrary.apiVersion().minor
        let fm = FileManager.default
        for file in ["bin/autoglm", "lib/libautoglm.so.\(major).\(minor)", "lib/autoglm/plugins/libaglm_flash.so",
                     "include/autoglm/autoglm.h", "include/autoglm/plugin.h", "include/autoglm/helpers.h",
                     "lib/pkgconfig/autoglm.pc"] {
            XCTAssertTrue(fm.fileExists(atPath: first.appendingPathComponent(file).path), file)
        }
        XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: first.appendingPathComponent("lib/libautoglm.so.\(major)").path),
                       "libautoglm.so.\(major).\(minor)")
        XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: first.appendingPathComponent("lib/libautoglm.so").path),
                       "libautoglm.so.\(major)")

        // The tree is copied elsewhere and the original removed: nothing may point back.
        try fm.copyItem(at: first, to: moved)
        try fm.removeItem(at: first)
        let elsewhere = root.appendingPathComponent("elsewhere")
        try fm.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        XCTAssertEqual(try pkgConfig(["--modversion"], prefix: moved, in: elsewhere), ["\(major).\(minor)"])

        // A plugin author outside the repository.
        let pluginDir = elsewhere.appendingPathComponent("plugins")
        try fm.createDirectory(at: pluginDir, withIntermediateDirectories: true)
        let source = elsewhere.appendingPathComponent("my.c").path
        try fm.copyItem(atPath: PluginBuilder.fixturesDir + "/toy_metric.c", toPath: source)
        try run(["cc", "-shared", "-fPIC"] + (try pkgConfig(["--cflags"], prefix: moved, in: elsewhere))
                + [source, "-o", pluginDir.appendingPathComponent("my.so").path], prefix: moved, in: elsewhere)

        // The installed tool finds its bundled plugins there, and the author's.
        let autoglm = moved.appendingPathComponent("bin/autoglm").path
        let listing = try run([autoglm, "plugins", "show", "flash"], prefix: moved, in: elsewhere)
        XCTAssertTrue(listing.contains(moved.appendingPathComponent("lib/autoglm/plugins").resolvingSymlinksInPath().path), listing)
        let corpus = try EmbeddingLibrary.corpus(in: elsewhere)
        try run([autoglm, "train", "--plugins", pluginDir.path, "--set", "data.path=\(corpus)", "--set", "run.dir=runs/t",
                 "--set", "model.n_layer=1", "--set", "model.n_embd=16", "--set", "model.n_head=2", "--set", "model.block_size=16",
                 "--set", "train.steps=4", "--set", "train.batch_size=4", "--set", "train.eval_batches=2",
                 "--set", "evaluators=perplexity,mean_logit"], prefix: moved, in: elsewhere)
        let log = try String(contentsOfFile: elsewhere.appendingPathComponent("runs/t/log.jsonl").path, encoding: .utf8)
        XCTAssertTrue(log.contains("mean_logit"), "the author's evaluator ran")

        // The C example built with pkg-config against the installed library runs.
        let program = elsewhere.appendingPathComponent("train").path
        try run(["cc", "-std=c99", PluginBuilder.repoRoot.appendingPathComponent("examples/c/train.c").path]
                + (try pkgConfig(["--cflags", "--libs"], prefix: moved, in: elsewhere)) + ["-o", program],
                prefix: moved, in: elsewhere)
        let trained = try run([program, corpus, "run-c", "train.steps=5", "train.eval_interval=0"], prefix: moved, in: elsewhere)
        XCTAssertTrue(trained.contains("trained steps 5"), trained)
    }

    func testUninstallRemovesWhatInstallPut() throws {
        let prefix = try PluginBuilder.temporaryDirectory("uninstall")
        let other = prefix.appendingPathComponent("lib/other.so")
        try FileManager.default.createDirectory(at: other.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data().write(to: other)
        try install(into: prefix)
        try run([PluginBuilder.repoRoot.appendingPathComponent("scripts/install.sh").path, "uninstall", prefix.path],
                prefix: prefix, in: PluginBuilder.repoRoot)
        let left = FileManager.default.enumerator(atPath: prefix.path)?.compactMap { $0 as? String }
            .filter { !$0.hasSuffix("/") } ?? []
        XCTAssertEqual(Set(left).subtracting(["bin", "lib", "include", "lib/pkgconfig"]), ["lib/other.so"],
                       "only what was there before (and the standard folders) is left")
    }
}
