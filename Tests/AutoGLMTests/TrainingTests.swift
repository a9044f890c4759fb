import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// End to end: the trainer with the bundled plugins learns, logs, saves and samples.
final class TrainingTests: XCTestCase {
    static let registry = PluginBuilder.bundledRegistry()

    /// A small corpus with learnable structure.
    static let corpus: String = {
        var rng = RandomGenerator(seed: 11)
        let words = ["the cat sat on the mat. ", "a dog ran to the park. ", "we like green tea. ", "it is raining again. "]
        return (0..<600).map { _ in words[rng.below(words.count)] }.joined()
    }()

    /// The small run the trainer tests share: 2 blocks of width 32, causal_dense, AdamW.
    static func config(runDir: String, steps: Int = 80) -> RunConfig {
        var c = RunConfig()
        c.model.nLayer = 2; c.model.nHead = 2; c.model.nEmbd = 32; c.model.blockSize = 16
        c.attention = ComponentSelection(kind: .attention, name: "causal_dense")
        c.optimizer = ComponentSelection(kind: .optimizer, name: "adamw", parameters: [
            "betas": .list([0.9, 0.99]), "eps": .number(1e-8), "weight_decay": .number(0.1), "amsgrad": .number(0)])
        c.lr = 3e-3
        c.train.steps = steps; c.train.batchSize = 8; c.train.warmupSteps = 5; c.train.minLR = 3e-4
        c.train.gradClip = 1.0; c.train.evalInterval = 40; c.train.evalBatches = 4; c.train.logInterval = 10
        c.train.seed = 5; c.train.threads = 2
        c.run.dir = runDir
        c.evaluators = [ComponentSelection(kind: .evaluator, name: "perplexity")]
        return c
    }

    /// A session of `config` on the test corpus, with `registry` (the bundled plugins by default).
    static func session(_ config: RunConfig, registry: PluginRegistry = TrainingTests.registry, overwrite: Bool = false,
                        progress: ((TrainingProgress) -> Void)? = nil) throws -> Session {
        let session = try Session(config: config, registry: registry, data: .text(corpus), overwrite: overwrite)
        if let progress { session.progress = { progress($0); return .proceed } }
        return session
    }

    func testLossFallsAndTheRunCanBeSampled() throws {
        let dir = try PluginBuilder.temporaryDirectory("run")
        var config = Self.config(runDir: dir.path)
        config.callbacks = [ComponentSelection(kind: .callback, name: "jsonl_log", parameters: ["file": .string("events.jsonl"), "every": .number(10)])]
        var losses: [Double] = []
        let session = try Self.session(config) { p in
            if p.kind == .step, p.logged { losses.append(p.loss) }
        }
        let result = try session.train()
        XCTAssertEqual(result.steps, 80)
        XCTAssertLessThan(losses.last!, losses.first! - 1.0, "loss should fall: \(losses)")
        let valLoss = try XCTUnwrap(result.metric("val/loss"))
        let ppl = try XCTUnwrap(result.metric("val/perplexity"))
        XCTAssertLessThan(valLoss, log(Double(session.tokenizer.count)))
        XCTAssertGreaterThan(ppl, 1)

        let log = try String(contentsOf: dir.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.first.map(String.init), session.resolved.jsonObject, "the first record is the resolved config")
        XCTAssertTrue(log.first?.contains(#""callbacks":["jsonl_log"]"#) ?? false)
        XCTAssertTrue(log.contains { $0.contains(#""kind":"eval""#) && $0.contains("val\\/perplexity") || $0.contains("val/perplexity") })
        let events = try String(contentsOf: dir.appendingPathComponent("events.jsonl"), encoding: .utf8).split(separator: "\n")
        for line in events { XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(line.utf8)), String(line)) }
        XCTAssertEqual(events.filter { $0.contains("step_end") }.count, 8, "jsonl_log every 10 of 80 steps")

        var options = SessionOptions()
        options.resume = dir.path
        options.data = .none
        let run = try Session(options)
        XCTAssertEqual(run.state.step, 80)
        for (a, b) in zip(run.model.parameters, session.model.parameters) { XCTAssertEqual(a.values, b.values, a.name ?? "") }
        XCTAssertEqual(run.tokenizer, session.tokenizer)
        var rng = RandomGenerator(seed: 1)
        let text = run.tokenizer.decode(try Sampler.generate(model: run.model, prompt: try run.tokenizer.encode("the "),
                                                             count: 40, temperature: 0.8, topK: 0, rng: &rng))
        XCTAssertEqual(text.unicodeScalars.count, 40)
        XCTAssertEqual(try run.sample(prompt: "the ", tokens: 40, temperature: 0.8, topK: 0, seed: 1), text)
        XCTAssertEqual(try session.sample(prompt: "the ", tokens: 40, temperature: 0.8, topK: 0, seed: 1), text,
                       "the session samples what the saved run samples")
        XCTAssertThrowsError(try run.train(steps: 1)) { XCTAssertTrue("\($0)".contains("holds no training data"), "\($0)") }
    }

    func testSameSeedSameLossesAndAccumulationKeepsTheEffectiveBatch() throws {
        func finalLoss(accumulation: Int) throws -> Double {
            var c = Self.config(runDir: try PluginBuilder.temporaryDirectory("run").path, steps: 10)
            c.train.accumulationSteps = accumulation
            c.evaluators = []
            return try Self.session(c).train().finalLoss
        }
        let a = try finalLoss(accumulation: 1), b = try finalLoss(accumulation: 1)
        XCTAssertEqual(a, b, "same seed, same result")
        // Micro-batches draw the same sequences in the same order, weighted by their share.
        let c = try finalLoss(accumulation: 3)
        XCTAssertEqual(a, c, accuracy: 2e-3)
    }

    func testEvalIntervalZeroEvaluatesOnlyAfterTheLastStep() throws {
        let dir = try PluginBuilder.temporaryDirectory("run")
        let layers = try ConfigLoader.load(file: nil, environment: [:], overrides: ["train.eval_interval=0"])
        XCTAssertEqual(try layers.resolve(schemas: Self.registry).config.train.evalInterval, 0)
        var config = Self.config(runDir: dir.path, steps: 12)
        config.train.evalInterval = 0
        let result = try Self.session(config).train()
        XCTAssertNotNil(result.metric("val/loss"))
        let log = try String(contentsOf: dir.appendingPathComponent("log.jsonl"), encoding: .utf8)
        XCTAssertEqual(log.split(separator: "\n").filter { $0.contains(#""kind":"eval""#) }.count, 1)
    }

    func testWholeModelGradientMatchesFiniteDifferences() throws {
        let model = try GPT(config: GPTConfig(nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 4, vocabSize: 5),
                            attention: ComponentSelection(kind: .attention, name: "causal_dense"), registry: Self.registry, seed: 3)
        for p in model.parameters {  // larger weights so every path carries signal
            for i in 0..<p.count { p.data[i] = p.data[i] * 10 + (p.ndim == 1 ? 1 : 0) }
        }
        let ids: [Int32] = [0, 1, 2, 3, 4, 3, 2, 1], targets: [Int32] = [1, 2, 3, 4, 3, 2, 1, 0]
        try model.loss(ids: ids, targets: targets, batch: 2, seq: 4).loss.backward()
        var rng = RandomGenerator(seed: 9)
        for p in model.parameters {
            let grad = p.grad!.values
            for _ in 0..<3 {
                let i = rng.below(p.count), saved = p.data[i], eps: Float = 1e-3
                func loss() throws -> Double {
                    Double(try Autograd.withNoGrad { try model.loss(ids: ids, targets: targets, batch: 2, seq: 4).loss.item })
                }
                p.data[i] = saved + eps; let up = try loss()
                p.data[i] = saved - eps; let down = try loss()
                p.data[i] = saved
                let numeric = (up - down) / Double(2 * eps)
                XCTAssertEqual(Double(grad[i]), numeric, accuracy: 2e-3 + 3e-2 * abs(numeric), "\(p.name!)[\(i)]")
            }
        }
    }
}
