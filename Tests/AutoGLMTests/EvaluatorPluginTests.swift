import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// The bundled evaluators (accuracy, topk_accuracy, class_recall, macro_f1,
/// expected_calibration_error) against hand-computed values on tiny examples and against Double
/// references written here from the published definitions, and their batch-split invariance:
/// the same data in one batch and in seven uneven batches gives identical metrics.
final class EvaluatorPluginTests: XCTestCase {
    private static let registry = PluginBuilder.bundledRegistry()

    // MARK: - helpers

    private typealias Metrics = [(name: String, value: Double)]

    /// A batch of logits rows and targets.
    private struct Batch {
        let vocab: Int
        let logits: [Float]
        let targets: [Int32]
        var rows: Int { targets.count }
        func row(_ i: Int) -> [Float] { Array(logits[(i * vocab)..<((i + 1) * vocab)]) }
    }

    /// Random data with many ties: logits are rounded to multiples of 0.5.
    private func randomData(rows: Int, vocab: Int, seed: UInt64) -> Batch {
        var rng = RandomGenerator(seed: seed)
        let logits = (0..<(rows * vocab)).map { _ in Float((rng.normal() * 3).rounded() / 2) }
        let targets = (0..<rows).map { _ in Int32(rng.below(vocab)) }
        return Batch(vocab: vocab, logits: logits, targets: targets)
    }

    private func evaluator(_ name: String, _ parameters: [String: ParameterValue] = [:]) throws -> EvaluatorInstance {
        try EvaluatorInstance(registry: Self.registry, name: name, parameters: parameters)
    }

    /// reset, one update per split (sizes must add up to the rows), compute.
    private func measure(_ e: EvaluatorInstance, _ d: Batch, splits: [Int]? = nil) throws -> Metrics {
        try e.reset()
        var start = 0
        for size in splits ?? [d.rows] {
            let slice = Array(d.logits[(start * d.vocab)..<((start + size) * d.vocab)])
            try e.update(logits: Tensor(shape: [size, d.vocab], values: slice), targets: Array(d.targets[start..<(start + size)]))
            start += size
        }
        XCTAssertEqual(start, d.rows, "splits must cover the data")
        return try e.compute()
    }

    private func value(_ metrics: Metrics, _ name: String, file: StaticString = #filePath, line: UInt = #line) -> Double {
        guard let m = metrics.first(where: { $0.name == name }) else {
            XCTFail("no metric \(name) in \(metrics.map(\.name))", file: file, line: line)
            return .nan
        }
        return m.value
    }

    /// One batch and seven uneven batches (and again one batch after those, i.e. after a reset)
    /// give the same names and bit-identical values (NaN equal to NaN).
    private func assertBatchInvariant(_ e: EvaluatorInstance, _ d: Batch, file: StaticString = #filePath, line: UInt = #line) throws {
        precondition(d.rows == 29)
        let whole = try measure(e, d), split = try measure(e, d, splits: [1, 5, 2, 7, 3, 4, 7]), again = try measure(e, d)
        for other in [split, again] {
            XCTAssertEqual(other.map(\.name), whole.map(\.name), file: file, line: line)
            for (a, b) in zip(whole, other) {
                XCTAssertTrue(a.value == b.value || (a.value.isNaN && b.value.isNaN), "\(a.name): \(a.value) vs \(b.value)", file: file, line: line)
            }
        }
    }

    // MARK: - references (from the definitions, in Double)

    /// Position of entry `index` in the order (logit descending, index ascending).
    private func referenceRank(_ row: [Float], _ index: Int) -> Int {
        let order = row.indices.sorted { a, b in row[a] != row[b] ? row[a] > row[b] : a < b }
        return order.firstIndex(of: index)!
    }

    /// Lowest index of the largest logit.
    private func referenceArgmax(_ row: [Float]) -> Int { row.firstIndex(of: row.max()!)! }

    // MARK: - accuracy

    func testAccuracyMatchesHandComputation() throws {
        // argmax: row 0 -> 0 (hit); row 1 ties 1 and 2 -> 1 (target 2 misses); row 2 the same
        // row with target 1 (hit); row 3 all tied -> 0 (hit). 3 of 4.
        let d = Batch(vocab: 3, logits: [2, 1, 0, 0, 3, 3, 0, 3, 3, 1, 1, 1], targets: [0, 2, 1, 0])
        let e = try evaluator("accuracy")
        XCTAssertEqual(try measure(e, d).map(\.name), ["accuracy"])
        XCTAssertEqual(value(try measure(e, d), "accuracy"), 0.75)
        XCTAssertEqual(value(try measure(e, d, splits: [1, 2, 1]), "accuracy"), 0.75)
    }

    func testAccuracyMatchesReferenceAndIgnoresBatching() throws {
        let d = randomData(rows: 29, vocab: 11, seed: 21)
        let e = try evaluator("accuracy")
        let hits = (0..<d.rows).filter { referenceArgmax(d.row($0)) == Int(d.targets[$0]) }.count
        XCTAssertEqual(value(try measure(e, d), "accuracy"), Double(hits) / 29)
        try assertBatchInvariant(e, d)
    }

    // MARK: - topk_accuracy

    func testTopKAccuracyBreaksTiesByLowerIndex() throws {
        // Row [1, 3, 3, 2] ranks ids 1, 2, 3, 0. k = 2: targets 1 and 2 are hits, 3 and 0 not.
        let row: [Float] = [1, 3, 3, 2]
        let d = Batch(vocab: 4, logits: row + row + row + row, targets: [1, 2, 3, 0])
        let k2 = try measure(try evaluator("topk_accuracy", ["k": .number(2)]), d)
        XCTAssertEqual(k2.map(\.name), ["top2_accuracy"])
        XCTAssertEqual(k2[0].value, 0.5)
        // k = 1: only target 1 (tied with 2, but first in the stable order).
        XCTAssertEqual(value(try measure(try evaluator("topk_accuracy", ["k": .number(1)]), d), "top1_accuracy"), 0.25)
        // k = 3: all but id 0.
        XCTAssertEqual(value(try measure(try evaluator("topk_accuracy", ["k": .number(3)]), d), "top3_accuracy"), 0.75)
        // k >= vocab: everything.
        XCTAssertEqual(value(try measure(try evaluator("topk_accuracy", ["k": .number(9)]), d), "top9_accuracy"), 1)
    }

    func testTopKAccuracyMatchesReferenceAndIgnoresBatching() throws {
        let d = randomData(rows: 29, vocab: 11, seed: 22)
        for k in [1, 3, 5] {
            let e = try evaluator("topk_accuracy", ["k": .number(Double(k))])
            let hits = (0..<d.rows).filter { referenceRank(d.row($0), Int(d.targets[$0])) < k }.count
            XCTAssertEqual(value(try measure(e, d), "top\(k)_accuracy"), Double(hits) / 29, "k \(k)")
            try assertBatchInvariant(e, d)
        }
        // k = 1 is plain accuracy.
        XCTAssertEqual(value(try measure(try evaluator("topk_accuracy", ["k": .number(1)]), d), "top1_accuracy"),
                       value(try measure(try evaluator("accuracy"), d), "accuracy"))
    }

    // MARK: - class_recall

    func testClassRecallMatchesHandComputation() throws {
        // vocab 4, classes [3, 1, 2]. Predictions (argmax) and targets:
        //   target 3, pred 3 (hit) | target 3, pred 0 | target 1, pred 1 (hit) | target 0, pred 3
        // recall/3 = 1/2, recall/1 = 1/1, recall/2 = NaN (no example), mean over 3 and 1 = 0.75.
        let d = Batch(vocab: 4, logits: [0, 0, 0, 5, 4, 0, 0, 1, 0, 2, 1, 1, 0, 0, 0, 9], targets: [3, 3, 1, 0])
        let e = try evaluator("class_recall", ["classes": .list([3, 1, 2])])
        let m = try measure(e, d)
        XCTAssertEqual(m.map(\.name), ["recall/3", "recall/1", "recall/2", "recall/mean"])
        XCTAssertEqual(value(m, "recall/3"), 0.5)
        XCTAssertEqual(value(m, "recall/1"), 1)
        XCTAssertTrue(value(m, "recall/2").isNaN, "a class without examples reports NaN")
        XCTAssertEqual(value(m, "recall/mean"), 0.75)
        // Only a class without examples: the mean is NaN too.
        let none = try measure(try evaluator("class_recall", ["classes": .list([2])]), d)
        XCTAssertTrue(value(none, "recall/2").isNaN && value(none, "recall/mean").isNaN)
    }

    func testClassRecallMatchesReferenceForEveryClassAndIgnoresBatching() throws {
        let d = randomData(rows: 29, vocab: 11, seed: 23)
        // Empty list: every id of the vocabulary, in order.
        let e = try evaluator("class_recall", ["classes": .list([])])
        let m = try measure(e, d)
        XCTAssertEqual(m.map(\.name), (0..<11).map { "recall/\($0)" } + ["recall/mean"])
        var recalls: [Double] = []
        for c in 0..<11 {
            let support = (0..<d.rows).filter { Int(d.targets[$0]) == c }
            let hits = support.filter { referenceArgmax(d.row($0)) == c }.count
            let expected = support.isEmpty ? Double.nan : Double(hits) / Double(support.count)
            let got = value(m, "recall/\(c)")
            XCTAssertTrue(got == expected || (got.isNaN && expected.isNaN), "class \(c): \(got) vs \(expected)")
            if !support.isEmpty { recalls.append(expected) }
        }
        XCTAssertEqual(value(m, "recall/mean"), recalls.reduce(0, +) / Double(recalls.count), accuracy: 1e-15)
        try assertBatchInvariant(e, d)
        try assertBatchInvariant(try evaluator("class_recall", ["classes": .list([10, 0, 4])]), d)
    }

    func testClassRecallValidatesClassIds() throws {
        let d = Batch(vocab: 3, logits: [1, 0, 0], targets: [0])
        let outside = try evaluator("class_recall", ["classes": .list([1, 5])])
        try outside.reset()
        XCTAssertThrowsError(try outside.update(logits: Tensor(shape: [1, 3], values: d.logits), targets: d.targets)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("class_recall") && text.contains("classes[1] = 5") && text.contains("[0, 3)"), text)
        }
        XCTAssertThrowsError(try evaluator("class_recall", ["classes": .list([2, 2])])) { error in
            XCTAssertTrue("\(error)".contains("twice"), "\(error)")
        }
        XCTAssertThrowsError(try evaluator("class_recall", ["classes": .list([1.5])])) { error in
            XCTAssertTrue("\(error)".contains("not a token id"), "\(error)")
        }
    }

    // MARK: - macro_f1

    func testMacroF1MatchesHandComputation() throws {
        // vocab 4; targets [0, 0, 1, 2], predictions [0, 1, 1, 1]:
        //   class 0: tp 1, fn 1 -> F1 = 2/3;  class 1: tp 1, fp 2 -> F1 = 1/2;  class 2: fn 1 -> 0;
        //   class 3: absent from both -> excluded. macro F1 = (2/3 + 1/2 + 0) / 3 = 7/18.
        let d = Batch(vocab: 4, logits: [1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 1, 0], targets: [0, 0, 1, 2])
        let m = try measure(try evaluator("macro_f1"), d)
        XCTAssertEqual(m.map(\.name), ["macro_f1"])
        XCTAssertEqual(m[0].value, 7.0 / 18.0, accuracy: 1e-15)
    }

    func testMacroF1MatchesSklearnDefinitionAndIgnoresBatching() throws {
        let d = randomData(rows: 29, vocab: 11, seed: 24)
        let preds = (0..<d.rows).map { referenceArgmax(d.row($0)) }, ys = d.targets.map(Int.init)
        // sklearn.metrics.f1_score(ys, preds, average="macro"): labels = union of ys and preds.
        let labels = Set(ys).union(preds)
        let f1s = labels.map { c -> Double in
            let tp = zip(preds, ys).filter { $0 == c && $1 == c }.count
            let fp = zip(preds, ys).filter { $0 == c && $1 != c }.count
            let fn = zip(preds, ys).filter { $0 != c && $1 == c }.count
            let precision = tp + fp == 0 ? 0 : Double(tp) / Double(tp + fp)
            let recall = tp + fn == 0 ? 0 : Double(tp) / Double(tp + fn)
            return precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
        }
        let e = try evaluator("macro_f1")
        XCTAssertEqual(value(try measure(e, d), "macro_f1"), f1s.reduce(0, +) / Double(labels.count), accuracy: 1e-12)
        try assertBatchInvariant(e, d)
    }

    // MARK: - expected_calibration_error

    func testECEMatchesHandComputationWithRightClosedBins() throws {
        // bins = 2: (0, 0.5] and (0.5, 1].
        //   row [0, 0]:       conf 0.5 (first bin: right-closed), prediction 0, target 0 -> correct
        //   row [log 3, 0]:   conf 0.75, prediction 0, target 1 -> wrong
        //   row [log 9, 0]:   conf 0.9,  prediction 0, target 0 -> correct
        // ECE = |1 - 0.5| * 1/3 + |1/2 - (0.75 + 0.9)/2| * 2/3 = (0.5 + 0.65) / 3.
        let d = Batch(vocab: 2, logits: [0, 0, Float(log(3.0)), 0, Float(log(9.0)), 0], targets: [0, 1, 0])
        let m = try measure(try evaluator("expected_calibration_error", ["bins": .number(2)]), d)
        XCTAssertEqual(m.map(\.name), ["ece"])
        XCTAssertEqual(m[0].value, 1.15 / 3, accuracy: 1e-7)
        // One bin: |2/3 - (0.5 + 0.75 + 0.9)/3| = 0.05.
        XCTAssertEqual(value(try measure(try evaluator("expected_calibration_error", ["bins": .number(1)]), d), "ece"), 0.05, accuracy: 1e-7)
    }

    func testECEMatchesGuoDefinitionAndIgnoresBatching() throws {
        let d = randomData(rows: 29, vocab: 11, seed: 25)
        for bins in [1, 4, 15] {
            // Guo et al. 2017, eq. 3, bins ((m-1)/M, m/M].
            var count = [Int](repeating: 0, count: bins), correct = count, conf = [Double](repeating: 0, count: bins)
            for i in 0..<d.rows {
                let row = d.row(i).map(Double.init), top = row.max()!
                let p = 1 / row.map { exp($0 - top) }.reduce(0, +)  // max_j softmax(row)_j
                let b = min(max(Int((p * Double(bins)).rounded(.up)) - 1, 0), bins - 1)
                count[b] += 1
                conf[b] += p
                if referenceArgmax(d.row(i)) == Int(d.targets[i]) { correct[b] += 1 }
            }
            var ece = 0.0
            for b in 0..<bins where count[b] > 0 {
                ece += abs(Double(correct[b]) / Double(count[b]) - conf[b] / Double(count[b])) * Double(count[b]) / Double(d.rows)
            }
            let e = try evaluator("expected_calibration_error", ["bins": .number(Double(bins))])
            XCTAssertEqual(value(try measure(e, d), "ece"), ece, accuracy: 1e-12, "bins \(bins)")
            try assertBatchInvariant(e, d)
        }
    }

    func testECEIsNaNWhenALogitIsNaN() throws {
        let d = Batch(vocab: 2, logits: [1, 0, .nan, 0], targets: [0, 0])
        XCTAssertTrue(value(try measure(try evaluator("expected_calibration_error", ["bins": .number(15)]), d), "ece").isNaN)
    }

    // MARK: - validation shared by all

    func testEveryEvaluatorRejectsBadBatchesWithAMessage() throws {
        let cases: [(String, [String: ParameterValue])] = [
            ("accuracy", [:]), ("topk_accuracy", ["k": .number(5)]), ("class_recall", ["classes": .list([])]),
            ("macro_f1", [:]), ("expected_calibration_error", ["bins": .number(15)]),
        ]
        for (name, params) in cases {
            let e = try evaluator(name, params)
            try e.reset()
            XCTAssertThrowsError(try e.update(logits: Tensor(zeros: [2, 3]), targets: [0, 9])) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(name) && text.contains("targets[1] = 9"), text)
            }
            XCTAssertThrowsError(try e.compute(), "\(name): compute without data must fail") { error in
                XCTAssertTrue("\(error)".contains("no tokens"), "\(error)")
            }
        }
    }
}
