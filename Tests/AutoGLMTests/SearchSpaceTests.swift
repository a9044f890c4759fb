@testable import AutoGLM
import XCTest

/// Search space files: what they build against the bundled plugins' schemas, and the messages
/// of invalid ones (file, line, key, what is wrong).
final class SearchSpaceTests: XCTestCase {
    static let registry = PluginBuilder.bundledRegistry()

    /// The space of `text` against a base config of `base` (YAML) and the bundled plugins.
    private func space(_ text: String, base: String = "attention: { name: causal_dense }\n") throws -> SearchSpace {
        let resolved = try ConfigLoader.load(text: base, label: "base.yaml").resolve(schemas: Self.registry)
        let file = try SearchSpaceFile.parse(text: text, path: "space.yaml")
        return try SearchSpaceBuilder(file: file, base: resolved.config, schemas: Self.registry).build()
    }

    /// The message `text` is refused with.
    private func refusal(_ text: String, base: String = "attention: { name: causal_dense }\n",
                         file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            let built = try space(text, base: base)
            XCTFail("accepted: \(built.summary)", file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testDistributionsAndConditionalComponentParameters() throws {
        let s = try space("""
            optimizer:
              lr: { loguniform: [1e-4, 1e-2] }
              weight_decay: { uniform: [0, 0.2], step: 0.05 }
            train.warmup_steps: { int: [0, 100], step: 10 }
            model.n_layer: { int: [1, 64], log: true }
            attention:
              window: { int: [8, 64] }
              name: { choice: [causal_dense, alibi, sliding_window] }
            model.position_embedding: { choice: [true, false] }
            """)
        XCTAssertEqual(s.parameters.map(\.key), ["attention.name", "optimizer.lr", "optimizer.weight_decay", "train.warmup_steps",
                                                 "model.n_layer", "attention.window", "model.position_embedding"],
                       "the choice comes before the parameters it controls")
        XCTAssertEqual(s.parameter("optimizer.lr")?.distribution, .float(low: 1e-4, high: 1e-2, log: true, step: nil))
        XCTAssertEqual(s.parameter("optimizer.weight_decay")?.distribution, .float(low: 0, high: 0.2, log: false, step: 0.05))
        XCTAssertEqual(s.parameter("train.warmup_steps")?.distribution, .int(low: 0, high: 100, log: false, step: 10))
        XCTAssertEqual(s.parameter("model.n_layer")?.distribution, .int(low: 1, high: 64, log: true, step: 1))
        XCTAssertEqual(s.parameter("attention.window")?.condition, .init(key: "attention.name", values: ["sliding_window"]))
        XCTAssertEqual(s.parameter("attention.window")?.origin, "space.yaml:7")
        XCTAssertNil(s.parameter("optimizer.lr")?.condition)
        XCTAssertEqual(s.overrides(["attention.name": 2, "attention.window": 12, "optimizer.lr": 0.001]),
                       ["attention.name=sliding_window", "optimizer.lr=0.001", "attention.window=12"])
        XCTAssertTrue(s.isActive(s.parameter("attention.window")!, given: ["attention.name": 2]))
        XCTAssertFalse(s.isActive(s.parameter("attention.window")!, given: ["attention.name": 1]))
    }

    func testAutoSearchesDeclaredParametersWithinTheirBounds() throws {
        let s = try space("attention.name: { choice: [flash, alibi], params: auto }\noptimizer.amsgrad: auto\n")
        func p(_ key: String) -> SearchParameter? { s.parameter(key) }
        // flash: block_q/block_k 1...1024 span three decades: log scale; kv_heads 0...65536 starts
        // at 0: linear; gemm: its choices. alibi: max_bias (0, 64], linear, from the smallest
        // number above the excluded 0.
        XCTAssertEqual(p("attention.block_q")?.distribution, .int(low: 1, high: 1024, log: true, step: 1))
        XCTAssertEqual(p("attention.block_q")?.condition, .init(key: "attention.name", values: ["flash"]))
        XCTAssertEqual(p("attention.kv_heads")?.distribution, .int(low: 0, high: 65536, log: false, step: 1))
        XCTAssertEqual(p("attention.gemm")?.distribution, .choice(["auto", "plugin", "plugin_avx2", "host"]))
        XCTAssertEqual(p("attention.max_bias")?.distribution, .float(low: Double.leastNonzeroMagnitude, high: 64, log: false, step: nil))
        XCTAssertEqual(p("attention.max_bias")?.condition, .init(key: "attention.name", values: ["alibi"]))
        XCTAssertEqual(p("optimizer.amsgrad")?.distribution, .choice(["false", "true"]))
        XCTAssertEqual(p("attention.block_q")?.origin, "auto from space.yaml:1")
        // scale is declared >= 0 by both, and flash's rope_base >= 0, with no upper bound: not
        // searched, and said so.
        XCTAssertNil(p("attention.scale"))
        XCTAssertNil(p("attention.rope_base"))
        XCTAssertEqual(s.skipped.count, 2, "\(s.skipped)")
        XCTAssertTrue(s.skipped.contains { $0.hasPrefix("attention.scale (flash, alibi): it declares no upper bound") }, "\(s.skipped)")
        XCTAssertTrue(s.skipped.contains { $0.hasPrefix("attention.rope_base (flash): it declares no upper bound") }, "\(s.skipped)")
        // A parameter named in the space is not expanded again.
        let explicit = try space("attention.name: { choice: [flash, alibi], params: auto }\nattention.block_q: { int: [16, 64], step: 16 }\n")
        XCTAssertEqual(explicit.parameters.filter { $0.key == "attention.block_q" }.map(\.distribution),
                       [.int(low: 16, high: 64, log: false, step: 16)])
        // The bounds of a log-scale float from auto (none of the bundled plugins has one: test the rule).
        let spec = ParameterSpec(name: "eps", kind: .float, doc: "", defaultValue: .number(1e-8), min: 1e-12, max: 1e-4)
        XCTAssertEqual(try SearchSpaceBuilder.automatic(spec).get(), .float(low: 1e-12, high: 1e-4, log: true, step: nil))
        let open = ParameterSpec(name: "lr", kind: .float, doc: "", defaultValue: .number(1), min: 0, max: 1, minExclusive: true)
        XCTAssertEqual(try SearchSpaceBuilder.automatic(open).get(), .float(low: 0.0.nextUp, high: 1, log: false, step: nil))
    }

    func testInvalidSpacesNameTheFileLineAndKey() {
        let cases: [(String, String)] = [
            ("optimizer:\n  lrr: { loguniform: [1e-4, 1e-2] }\n",
             "space.yaml:2: optimizer.lrr: unknown key for optimizer 'adamw' (the base config's optimizer.name) (did you mean 'lr'?)"),
            ("optimizer.lr: { loguniform: [0, 1e-2] }\n", "space.yaml:1: optimizer.lr must be > 0, got 0"),
            ("optimizer.lr: { uniform: [0.1, 0.01] }\n", "space.yaml:1: optimizer.lr: uniform needs low < high, got [0.1, 0.01]"),
            ("train.warmup_steps: { uniform: [0, 100] }\n",
             "space.yaml:1: train.warmup_steps: is an integer: use { int: [low, high] } rather than uniform"),
            ("train.steps: { int: [0, 100] }\n", "space.yaml:1: train.steps must be >= 1, got 0"),
            ("train.warmup_steps: { int: [0, 100], step: 30 }\n",
             "space.yaml:1: train.warmup_steps: step 30 does not divide [0, 100] into whole steps (try [0, 90])"),
            ("train.warmup_steps: { int: [0, 100], stepp: 5 }\n",
             "space.yaml:1: train.warmup_steps: unknown field 'stepp' (did you mean 'step'?)"),
            ("optimizer.lr: { logunifrom: [1e-4, 1e-2] }\n",
             "space.yaml:1: optimizer.lr.logunifrom: expected a distribution"),
            ("optimizer.lr: 0.001\n", "a fixed value belongs in the base config"),
            ("attention.name: { choice: [flash, alibbi] }\n",
             "space.yaml:1: attention.name: no attention component named 'alibbi' (did you mean 'alibi'?)"),
            ("attention.name: { choice: [causal_dense, alibi] }\nattention.windw: { int: [4, 8] }\n",
             "space.yaml:2: attention.windw: none of causal_dense, alibi declares a parameter 'windw'"),
            ("attention.window: { int: [4, 8] }\n",
             "space.yaml:1: attention.window: unknown key for attention 'causal_dense' (the base config's attention.name)"),
            ("attention.name: { choice: [sliding_window] }\nattention.window: { int: [0, 8] }\n",
             "space.yaml:2: attention.window must be >= 1, got 0 (as attention 'sliding_window' declares it)"),
            ("run.dir: { choice: [a, b] }\n", "space.yaml:1: run.dir: cannot be searched"),
            ("train.threads: { int: [1, 2] }\n", "space.yaml:1: train.threads: cannot be searched"),
            ("optimizer.lr: { uniform: [0.001, 0.01], params: auto }\n", "params: auto belongs on a component choice"),
            ("optimizer.weight_decay: auto\n",
             "space.yaml:1: optimizer.weight_decay: auto cannot search it: it declares no upper bound (>= 0)"),
            ("evaluators: { choice: [perplexity] }\n", "space.yaml:1: evaluators: lists of components or paths cannot be searched"),
            ("optimizer.lr: { loguniform: [1e-4, 1e-2], step: 0.001 }\n", "step cannot be combined with a log scale"),
            // A hook is refused as a whole (main's 50f29ab), before its choices are read.
            ("train.lr_schedule: { choice: [cosine, linar] }\n",
             "space.yaml:1: train.lr_schedule: a hook (a function binding) cannot be searched"),
            ("train.seed: { choice: [1, 1] }\n", "space.yaml:1: train.seed: '1' is listed twice"),
            ("params.perplexity.nothing: { choice: [1] }\n", "evaluator 'perplexity' declares no parameter 'nothing'"),
            ("optimizer.lr: { loguniform: [1e-4, 1e-2] }\noptimizer:\n  lr: { uniform: [0, 1] }\n",
             "space.yaml:3: optimizer.lr: searched twice (also at line 1)"),
            ("optimizer.lr: { loguniform: [1e-4 }\n", "space.yaml:1:"),
            ("", "the search space has no keys to search"),
        ]
        for (text, expected) in cases {
            let message = refusal(text)
            XCTAssertTrue(message.contains(expected), "for:\n\(text)\nexpected '\(expected)' in:\n\(message)")
        }
    }
}
