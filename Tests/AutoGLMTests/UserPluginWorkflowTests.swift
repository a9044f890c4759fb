import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// The user's workflow: write a plugin, compile it with one `cc` line in their own folder, name
/// it in a config, train.
final class UserPluginWorkflowTests: XCTestCase {
    func testPluginCompiledInATempDirectoryIsSelectedByNameInTheConfig() throws {
        let work = try PluginBuilder.temporaryDirectory("user-plugin")
        let source = work.appendingPathComponent("toy_metric.c")
        try FileManager.default.copyItem(atPath: PluginBuilder.fixturesDir + "/toy_metric.c", toPath: source.path)
        let pluginDir = work.appendingPathComponent("plugins")
        try FileManager.default.createDirectory(at: pluginDir, withIntermediateDirectories: true)
        let build = try PluginBuilder.run(["cc", "-shared", "-fPIC", "-O2", "-I", PluginBuilder.includeDir,
                                           "-o", pluginDir.appendingPathComponent("toy_metric.so").path, "toy_metric.c"], in: work)
        XCTAssertEqual(build.status, 0, build.output)

        let corpus = work.appendingPathComponent("corpus.txt")
        try TrainingTests.corpus.write(to: corpus, atomically: true, encoding: .utf8)
        let config = work.appendingPathComponent("run.yaml")
        try """
        data: { path: \(corpus.path) }
        model: { n_layer: 1, n_head: 2, n_embd: 16, block_size: 8 }
        train: { steps: 6, batch_size: 4, warmup_steps: 1, eval_interval: 3, eval_batches: 2, log_interval: 3 }
        run: { dir: \(work.appendingPathComponent("run").path) }
        evaluators: [perplexity, mean_logit]
        params:
          mean_logit: { scale: 2.0 }
        plugins:
          paths: [\(pluginDir.path)]
        """.write(to: config, atomically: true, encoding: .utf8)

        let layers = try ConfigLoader.load(file: config.path, environment: [:], overrides: [])
        let registry = PluginRegistry()
        registry.load(directories: PluginSearchPath.directories(commandLine: [], environment: [:], config: layers.pluginPaths))
        XCTAssertEqual(registry.failures.count, 0, "\(registry.failures)")
        let resolved = try layers.resolve(schemas: registry)
        XCTAssertEqual(resolved.config.evaluators.map(\.name), ["perplexity", "mean_logit"])
        XCTAssertEqual(resolved.config.evaluators[1].parameters["scale"], .number(2))

        var options = SessionOptions()
        options.configFile = config.path
        let session = try Session(options)
        XCTAssertEqual(session.config, resolved.config)
        let result = try session.train()
        let meanLogit = try XCTUnwrap(result.metric("val/mean_logit"), "metrics: \(result.metrics)")
        XCTAssertTrue(meanLogit.isFinite)

        // A typo in the plugin's parameter is caught before any plugin code runs, with a hint.
        let typo = try ConfigLoader.load(file: config.path, environment: [:], overrides: ["params.mean_logit.scael=3"])
        XCTAssertThrowsError(try typo.resolve(schemas: registry)) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'scale'"), "\(error)")
        }
    }
}
