@testable import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// The progress a session reports while work is underway: the batches of an evaluation, the
/// bytes of the corpus read, the tokenizing; and that the faster tokenizer gives what the
/// definition (sorted set of scalars, one id each) gives.
final class ProgressReportTests: XCTestCase {
    func testEvaluationReportsEachBatchThenTheResult() throws {
        var c = TrainingTests.config(runDir: try PluginBuilder.temporaryDirectory().path, steps: 6)
        c.train.evalInterval = 3
        c.train.evalBatches = 5
        var kinds: [TrainingProgress.Kind] = []
        var stepsSeen: [Int] = []
        _ = try TrainingTests.session(c) { p in
            kinds.append(p.kind)
            if case .evaluating = p.kind { stepsSeen.append(p.step) }
        }.train()
        let oneEvaluation: [TrainingProgress.Kind] = (0...5).map { .evaluating(batch: $0, of: 5) } + [.evaluation]
        let expected: [TrainingProgress.Kind] = [.step, .step, .step] + oneEvaluation + [.step, .step, .step] + oneEvaluation
        XCTAssertEqual(kinds, expected)
        XCTAssertEqual(stepsSeen, Array(repeating: 3, count: 6) + Array(repeating: 6, count: 6),
                       "an evaluation's reports carry the step it follows")
    }

    func testReadingAndTokenizingAreReportedUpToTheirTotals() throws {
        let dir = try PluginBuilder.temporaryDirectory()
        // Two files, one larger than a read chunk, so reading is reported several times.
        let big = String(repeating: TrainingTests.corpus, count: Corpus.chunkSize / TrainingTests.corpus.utf8.count + 2)
        try big.write(to: dir.appendingPathComponent("a.txt"), atomically: true, encoding: .utf8)
        try "zebra ünïcødé 🦓\n".write(to: dir.appendingPathComponent("b.txt"), atomically: true, encoding: .utf8)
        let totalBytes = big.utf8.count + "zebra ünïcødé 🦓\n".utf8.count
        var reading: [(Int, Int)] = [], tokenizing: [(Int, Int)] = []
        var options = SessionOptions()
        options.overrides = ["data.path=\(dir.path)", "model.n_layer=1", "model.n_head=1", "model.n_embd=8",
                             "model.block_size=8", "train.batch_size=2", "attention.name=causal_dense",
                             "run.dir=\(dir.appendingPathComponent("run").path)"]
        options.progress = { p in
            switch p.kind {
            case .readingData(let bytes, let of): reading.append((bytes, of))
            case .tokenizing(let done, let of): tokenizing.append((done, of))
            default: XCTFail("no \(p.kind) while the session is built")
            }
            return .proceed
        }
        let session = try Session(options)
        XCTAssertGreaterThan(reading.count, 1)
        XCTAssertTrue(reading.allSatisfy { $0.1 == totalBytes }, "\(reading.map(\.1))")
        XCTAssertEqual(reading.map(\.0), reading.map(\.0).sorted())
        XCTAssertEqual(reading.last?.0, totalBytes)
        // Tokenizing counts the joined text ("\n" between files) twice: vocabulary, then ids.
        let textBytes = totalBytes + 1
        XCTAssertGreaterThan(tokenizing.count, 1)
        XCTAssertTrue(tokenizing.allSatisfy { $0.1 == 2 * textBytes })
        XCTAssertEqual(tokenizing.map(\.0), tokenizing.map(\.0).sorted())
        XCTAssertEqual(tokenizing.last?.0, 2 * textBytes)
        XCTAssertTrue(session.tokenizer.vocabulary.contains(0x1F993), "the zebra (outside the BMP) is in the vocabulary")
    }

    func testTokenizeEqualsTheSortedSetOfScalars() throws {
        let text = "b\u{0}a\u{7F}é€𝄞\u{10FFFF}zz\n" + TrainingTests.corpus
        let (tokenizer, ids) = try CharTokenizer.tokenize(text, progress: nil)
        let reference = Set(text.unicodeScalars.map(\.value)).sorted()
        XCTAssertEqual(tokenizer.vocabulary, reference)
        XCTAssertEqual(ids, text.unicodeScalars.map { Int32(reference.firstIndex(of: $0.value)!) })
        XCTAssertEqual(CharTokenizer(text: text), tokenizer)
        XCTAssertEqual(try tokenizer.encode(text), ids)
        XCTAssertEqual(tokenizer.decode(ids), text)
    }
}
