import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// End to end: the trainer with the bundled plugins learns, logs, saves and samples.
final class TrainingTests: XCTestCase {
    private static let registry = PluginBuilder.bundledRegistry()

    /// A small corpus with learnable structure.
    static let corpus: String = {
        var rng = RandomGenerator(seed: 11)
        let words = ["the cat sat on the mat. ", "a dog ran to the park. ", "we like green tea. ", "it is raining again. "]
        return (0..<600).map { _ in words[rng.below(words.count)] }.joined()
    }()

    static func options(runDir: String, steps: Int = 80) -> TrainingOptions {
        var o = TrainingOptions(
            model: GPTConfig(nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 16, vocabSize: 0),
            attention: ComponentSelection(kind: .attention, name: "causal_dense"),
            optimizer: ComponentSelection(kind: .optimizer, name: "adamw", parameters: ["betas": .list([0.9, 0.99]), "eps": .number(1e-8),
                                                                 "weight_decay": .number(0.1), "amsgrad": .number(0)]),
            lr: 3e-3, steps: steps, batchSize: 8, warmupSteps: 5, minLR: 3e-4, gradClip: 1.0,
            evalInterval: 40, evalBatches: 4, logInterval: 10, seed: 5, threads: 2, runDir: runDir)
        o.evaluators = [ComponentSelection(kind: .evaluator, name: "perplexity")]
        return o
    }

    private func trainer(_ options: TrainingOptions) throws -> Trainer {
        let tokenizer = CharTokenizer(text: Self.corpus)
        let dataset = try TokenDataset(tokens: try tokenizer.encode(Self.corpus), valFraction: 0.1, blockSize: options.model.blockSize)
        return try Trainer(options: options, registry: Self.registry, dataset: dataset, tokenizer: tokenizer)
    }

    func testLossFallsAndTheRunCanBeSampled() throws {
        let dir = try PluginBuilder.temporaryDirectory("run")
        var options = Self.options(runDir: dir.path)
        options.callbacks = [ComponentSelection(kind: .callback, name: "jsonl_log", parameters: ["file": .string("events.jsonl"), "every": .number(10)])]
        options.resolvedConfigJSON = #"{"kind":"config"}"#
        var losses: [Double] = []
        let tokenizer = CharTokenizer(text: Self.corpus)
        let dataset = try TokenDataset(tokens: try tokenizer.encode(Self.corpus), valFraction: 0.1, blockSize: 16)
        let trainer = try Trainer(options: options, registry: Self.registry, dataset: dataset, tokenizer: tokenizer) { p in
            if p.kind == .step { losses.append(p.loss) }
        }
        let result = try trainer.run()
        XCTAssertEqual(result.steps, 80)
        XCTAssertLessThan(losses.last!, losses.first! - 1.0, "loss should fall: \(losses)")
        let valLoss = try XCTUnwrap(result.metric("val/loss"))
        let ppl = try XCTUnwrap(result.metric("val/perplexity"))
        XCTAssertLessThan(valLoss, log(Double(tokenizer.count)))
        XCTAssertGreaterThan(ppl, 1)

        let log = try String(contentsOf: dir.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.first, #"{"kind":"config"}"#)
        XCTAssertTrue(log.contains { $0.contains(#""kind":"eval""#) && $0.contains("val\\/perplexity") || $0.contains("val/perplexity") })
        let events = try String(contentsOf: dir.appendingPathComponent("events.jsonl"), encoding: .utf8).split(separator: "\n")
        for line in events { XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(line.utf8)), String(line)) }
        XCTAssertEqual(events.filter { $0.contains("step_end") }.count, 8, "jsonl_log every 10 of 80 steps")

        let run = try TrainedRun(path: dir.path, registry: Self.registry)
        for (a, b) in zip(run.model.parameters, trainer.model.parameters) { XCTAssertEqual(a.values, b.values, a.name ?? "") }
        var rng = RandomGenerator(seed: 1)
        let text = run.tokenizer.decode(try Sampler.generate(model: run.model, prompt: try run.tokenizer.encode("the "),
                                                             count: 40, temperature: 0.8, topK: 0, rng: &rng))
        XCTAssertEqual(text.unicodeScalars.count, 40)
    }

    func testSameSeedSameLossesAndAccumulationKeepsTheEffectiveBatch() throws {
        func finalLoss(accumulation: Int) throws -> Double {
            var o = Self.options(runDir: try PluginBuilder.temporaryDirectory("run").path, steps: 10)
            o.accumulationSteps = accumulation
            o.evaluators = []
            return try trainer(o).run().finalLoss
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
        var options = Self.options(runDir: dir.path, steps: 12)
        options.evalInterval = 0
        let result = try trainer(options).run()
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
