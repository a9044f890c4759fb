import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// Exclusive bounds in parameter schemas (ABI 1.2 min_exclusive / max_exclusive, with
/// Fixtures/exclusive_bounds.c and the bundled optimizers, which no longer re-check them in
/// create) and parameter lookups that fail loudly on a name the schema does not declare
/// (Fixtures/typo_param.c).
final class SchemaBoundsAndLookupsTests: XCTestCase {
    private func spec(_ registry: PluginRegistry, _ component: String, _ name: String) throws -> ParameterSpec {
        try XCTUnwrap(registry.info(named: component).first?.parameters.first { $0.name == name }, "\(component).\(name)")
    }

    func testExclusiveBoundsAreReadShownAndEnforced() throws {
        let registry = try PluginBuilder.fixtureRegistry("exclusive_bounds.c")
        let rate = try spec(registry, "bounded", "rate"), eps = try spec(registry, "bounded", "eps")
        let pair = try spec(registry, "bounded", "pair")
        XCTAssertEqual([rate.minExclusive, rate.maxExclusive, eps.minExclusive, eps.maxExclusive, pair.minExclusive, pair.maxExclusive],
                       [true, true, true, false, false, true])
        XCTAssertEqual([rate.rangeDescription, eps.rangeDescription, pair.rangeDescription], ["(0, 1)", "> 0", "2 items in [0, 1)"])
        func refusal(_ s: ParameterSpec, _ text: String) -> String {
            do { _ = try s.validate(.scalar(text), key: "params.bounded.\(s.name)", origin: "--set"); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(refusal(rate, "0"), "--set: params.bounded.rate must be in (0, 1), got 0")
        XCTAssertEqual(refusal(rate, "1"), "--set: params.bounded.rate must be in (0, 1), got 1")
        XCTAssertEqual(refusal(rate, "0.999"), "accepted")
        XCTAssertEqual(refusal(eps, "0"), "--set: params.bounded.eps must be > 0, got 0")
        XCTAssertEqual(refusal(eps, "1e-300"), "accepted")
        XCTAssertEqual(refusal(pair, "0,1"), "--set: params.bounded.pair[1] must be in [0, 1), got 1")
        XCTAssertEqual(refusal(pair, "0,0.5"), "accepted")
        // A spec whose struct_size is ABI 1.0's: the flags past it are not read (inclusive).
        let legacy = try spec(registry, "legacy", "floor")
        XCTAssertFalse(legacy.minExclusive || legacy.maxExclusive)
        XCTAssertEqual(legacy.rangeDescription, "0...1")
    }

    func testMalformedExclusiveBoundsAreRefusedAtRegistration() throws {
        let expected = [1: "parameter 'flag': min_exclusive/max_exclusive apply to FLOAT, INT and FLOAT_LIST parameters only",
                        2: "parameter 'big': an exclusive bound must be finite",
                        3: "parameter 'eps': default 0 is outside > 0"]
        for (bad, text) in expected.sorted(by: { $0.key < $1.key }) {
            let dir = try PluginBuilder.temporaryDirectory()
            let path = try PluginBuilder.compileFixture("exclusive_bounds.c", into: dir, defines: ["BAD=\(bad)"])
            let registry = PluginRegistry()
            XCTAssertFalse(registry.load(file: path))
            XCTAssertTrue(registry.failures.contains { $0.reason.contains(text) }, "BAD=\(bad): \(registry.failures)")
        }
    }

    func testBundledSchemasSayWhatTheirDocsSay() throws {
        let registry = PluginBuilder.bundledRegistry()
        for optimizer in ["adam", "adamw", "lamb"] {
            XCTAssertEqual(try spec(registry, optimizer, "betas").rangeDescription, "2 items in [0, 1)", optimizer)
            XCTAssertEqual(try spec(registry, optimizer, "eps").rangeDescription, "> 0", optimizer)
        }
        XCTAssertEqual(try spec(registry, "lion", "betas").rangeDescription, "2 items in [0, 1)")
        for (component, name, range) in [("rmsprop", "eps", "> 0"), ("adagrad", "eps", "> 0"), ("adafactor", "eps1", "(0, 1]"),
                                         ("adafactor", "clip_threshold", "> 0"), ("adafactor", "beta1", "[0, 1)"),
                                         ("muon", "momentum", "[0, 1)"), ("muon", "adamw_eps", "> 0"),
                                         ("muon", "adamw_betas", "2 items in [0, 1)"), ("alibi", "max_bias", "(0, 64]"),
                                         ("ema", "decay", "(0, 1)"), ("swa", "start_fraction", "[0, 1)"), ("rope", "base", "> 0")] {
            XCTAssertEqual(try spec(registry, component, name).rangeDescription, range, "\(component).\(name)")
        }
        // The host refuses what create used to check, naming the key, before any plugin code runs.
        var config = TrainingTests.config(runDir: try PluginBuilder.temporaryDirectory("betas").path, steps: 1)
        config.optimizer = ComponentSelection(kind: .optimizer, name: "lion", parameters: ["betas": .list([0.9, 1.0]), "weight_decay": .number(0)])
        XCTAssertThrowsError(try TrainingTests.session(config)) { error in
            XCTAssertTrue("\(error)".contains("optimizer.betas[1] must be in [0, 1), got 1"), "\(error)")
        }
    }

    func testALookupOfAnUndeclaredNameFailsCreate() throws {
        let registry = try PluginBuilder.fixtureRegistry("typo_param.c")
        XCTAssertThrowsError(try EvaluatorInstance(registry: registry, name: "typo", parameters: ["scale": .number(1)])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("component 'typo': create: create asked for parameter param_number(\"sclae\"), which its schema does not declare (did you mean 'scale'?) (declared: scale)"), text)
            XCTAssertTrue(text.contains("param_string(\"scale\"), but 'scale' is a float parameter (use param_number)"), text)
            XCTAssertTrue(text.contains("fix the name in the plugin's code or declare it in the schema"), text)
        }
        let report = PluginValidator.validate(file: try XCTUnwrap(registry.libraries.first?.file))
        XCTAssertFalse(report.passed)
        XCTAssertTrue(report.checks.contains { !$0.passed && $0.name == "lifecycle twice" && $0.detail.contains("sclae") }, report.render().joined(separator: "\n"))
    }

    func testALibraryBuiltBeforeABI12OnlyGetsAWarningButValidateFailsIt() throws {
        let registry = try PluginBuilder.fixtureRegistry("typo_param.c", defines: ["AS_MINOR_1"])
        XCTAssertEqual(registry.libraries.first?.abi, "1.1")
        let evaluator = try EvaluatorInstance(registry: registry, name: "typo", parameters: ["scale": .number(1)])
        try evaluator.reset()
        let report = PluginValidator.validate(file: try XCTUnwrap(registry.libraries.first?.file))
        XCTAssertTrue(report.checks.contains { !$0.passed && $0.detail.contains("param_number(\"sclae\")") }, report.render().joined(separator: "\n"))
    }
}
