@testable import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// Using a trained run: the full-split evaluation against a float64 reference computed from the
/// model's own forward pass, sampling with log-probabilities, and the logits of an input.
final class TrainedRunTests: XCTestCase {
    /// A run trained for a few steps on the test corpus (written to a file, its `data.path`),
    /// with the perplexity and accuracy evaluators; shared by the tests of this class.
    nonisolated(unsafe) static let trained: (session: Session, corpus: String, dir: URL) = {
        let dir = try! PluginBuilder.temporaryDirectory("trained")
        let corpus = dir.appendingPathComponent("corpus.txt")
        try! TrainingTests.corpus.write(to: corpus, atomically: true, encoding: .utf8)
        var c = TrainingTests.config(runDir: dir.appendingPathComponent("run").path, steps: 30)
        c.data.path = corpus.path
        c.evaluators = [ComponentSelection(kind: .evaluator, name: "perplexity"), ComponentSelection(kind: .evaluator, name: "accuracy")]
        let session = try! Session(config: c, registry: TrainingTests.registry, data: .configured)
        _ = try! session.train()
        return (session, corpus.path, dir.appendingPathComponent("run"))
    }()

    /// The run opened read-only from its directory, as `autoglm eval`/`sample` open it.
    private func reopened() throws -> Session {
        var options = SessionOptions()
        options.resume = Self.trained.dir.path
        options.data = .none
        return try Session(options)
    }

    /// Mean cross-entropy in float64 and argmax accuracy over every target of `tokens`, from
    /// the logits of consecutive block_size windows computed one window at a time.
    private func reference(_ model: GPT, _ tokens: [Int32]) throws -> (loss: Double, accuracy: Double) {
        let s = model.config.blockSize, v = model.config.vocabSize
        var nll = 0.0, correct = 0, count = 0
        var start = 0
        while start + 1 < tokens.count {
            let seq = min(s, tokens.count - 1 - start)
            let logits = try Autograd.withNoGrad { try model.logits(ids: Array(tokens[start..<start + seq]), batch: 1, seq: seq) }
            for t in 0..<seq {
                let row = (0..<v).map { Double(logits.data[t * v + $0]) }
                let top = row.max()!, target = Int(tokens[start + t + 1])
                nll -= row[target] - top - log(row.reduce(0) { $0 + exp($1 - top) })
                if row.firstIndex(of: top) == target { correct += 1 }
                count += 1
            }
            start += seq
        }
        return (nll / Double(count), Double(correct) / Double(count))
    }

    func testConsecutiveBlocksPredictEveryTokenButTheFirstOnce() {
        for (n, s, b) in [(50, 16, 2), (49, 16, 2), (17, 16, 4), (2, 16, 3), (97, 8, 5)] {
            let blocks = ConsecutiveBlocks(tokens: (0..<n).map(Int32.init), blockSize: s, batchSize: b)
            var predicted: [Int32] = []
            for i in 0..<blocks.batches {
                let batch = blocks.batch(i)
                XCTAssertEqual(batch.inputs.count, batch.rows * batch.seq)
                XCTAssertLessThanOrEqual(batch.rows, b)
                XCTAssertEqual(zip(batch.inputs, batch.targets).filter { $0 + 1 != $1 }.count, 0, "targets are the next tokens")
                XCTAssertEqual(batch.weight, Double(batch.targets.count))
                predicted += batch.targets
            }
            XCTAssertEqual(predicted, (1..<n).map(Int32.init), "n \(n), block \(s), batch \(b): each target once, in order")
            XCTAssertEqual(blocks.targets, n - 1)
            XCTAssertEqual(blocks.blocks, (n - 1 + s - 1) / s)
        }
    }

    func testEvaluatingASplitMatchesTheFloat64LossOfItsBlocks() throws {
        let (trained, corpus, _) = Self.trained
        let session = try reopened()
        let tokens = try session.tokenizer.encode(try String(contentsOfFile: corpus, encoding: .utf8))
        let cut = Int(Double(tokens.count) * (1 - session.config.data.valFraction))
        for (split, part) in [(EvaluationSplit.val, Array(tokens[cut...])), (.train, Array(tokens[..<cut])), (.all, tokens)] {
            let result = try session.evaluate(split: split)
            let expected = try reference(session.model, part)
            XCTAssertEqual(result.tokens, part.count)
            XCTAssertEqual(result.targets, part.count - 1)
            XCTAssertEqual(result.metrics.first?.name, "loss")
            XCTAssertEqual(result.metrics.first!.value, expected.loss, accuracy: 1e-5 * expected.loss, "\(split)")
            let metrics = Dictionary(result.metrics.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
            XCTAssertEqual(try XCTUnwrap(metrics["perplexity"]), exp(expected.loss), accuracy: 1e-4 * exp(expected.loss))
            XCTAssertEqual(try XCTUnwrap(metrics["accuracy"]), expected.accuracy, accuracy: 1.5 / Double(part.count), "\(split)")
            XCTAssertEqual(try session.evaluate(split: split), result, "deterministic")
        }
        XCTAssertEqual(try trained.evaluate(split: .val).metrics, try session.evaluate(split: .val).metrics,
                       "the training session and the reopened run agree")
        let own = "the cat ran to the mat. "
        let given = try session.evaluate(split: .all, text: (own, "own.txt"))
        XCTAssertEqual(given.metrics[0].value, try reference(session.model, try session.tokenizer.encode(own)).loss, accuracy: 1e-5)
        XCTAssertEqual(given.source, "own.txt")
        XCTAssertThrowsError(try session.evaluate(split: .all, text: ("Zé", "bad.txt"))) {
            XCTAssertTrue("\($0)".hasPrefix("bad.txt: character 'Z' is not in the vocabulary"), "\($0)")
        }
        XCTAssertThrowsError(try session.evaluate(split: .val, text: ("the", "short.txt"))) {
            XCTAssertTrue("\($0)".contains("the val split holds 1 token: at least 2"), "\($0)")
        }
    }

    func testSampledTokensCarryTheModelsLogProbabilities() throws {
        let session = try reopened()
        let tokens = try session.sampleTokens(prompt: "the ", tokens: 12, temperature: 0.7, seed: 3)
        XCTAssertEqual(tokens.map(\.text).joined(), try session.sample(prompt: "the ", tokens: 12, temperature: 0.7, seed: 3),
                       "the same draw as the text sample")
        var context = try session.tokenizer.encode("the ")
        for token in tokens {
            let (_, logits) = try session.logits(of: session.tokenizer.decode(context))
            let row = logits.last!.map(Double.init), top = row.max()!
            let expected = row[Int(token.id)] - top - log(row.reduce(0) { $0 + exp($1 - top) })
            // Sampling reads the logits through the KV cache, `logits` recomputes them: the same
            // values up to float32 rounding of the different summation order.
            XCTAssertEqual(token.logProb, expected, accuracy: 1e-6)
            XCTAssertLessThan(token.logProb, 0)
            context.append(token.id)
        }
    }

    func testLogitsAreTheModelsForwardPass() throws {
        let session = try reopened()
        let (ids, logits) = try session.logits(of: "a dog ")
        XCTAssertEqual(ids, try session.tokenizer.encode("a dog "))
        let direct = try Autograd.withNoGrad { try session.model.logits(ids: ids, batch: 1, seq: ids.count) }
        XCTAssertEqual(logits.flatMap { $0 }, direct.values, "bit for bit")
        let long = String(repeating: "a", count: session.model.config.blockSize + 1)
        XCTAssertThrowsError(try session.logits(of: long)) {
            XCTAssertTrue("\($0)".contains("the input has 17 characters: give 1 to 16 (the model's block_size)"), "\($0)")
        }
    }
}
