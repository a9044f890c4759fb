import AutoGLMCore
import Foundation
import XCTest

final class EmbeddingLossTests: XCTestCase {
    func testEmbeddingForward() throws {
        let table = TestData.tensor([3, 2], [0, 1, 10, 11, 20, 21])
        let e = try Ops.embedding(table, ids: [2, 0, 1, 2], shape: [2, 2])
        XCTAssertEqual(e.shape, [2, 2, 2])
        XCTAssertEqual(e.values, [20, 21, 0, 1, 10, 11, 20, 21])
        XCTAssertEqual(try Ops.embedding(table, ids: [1], shape: []).shape, [2])
    }

    func testEmbeddingGradientScatterAdds() throws {
        let table = TestData.randn([5, 3], seed: 1)
        GradCheck.check([table], "embedding with repeated ids") { try Ops.embedding($0[0], ids: [4, 1, 4, 0, 4, 2], shape: [2, 3]) }
        table.grad = nil
        try Ops.sumAll(try Ops.embedding(table, ids: [4, 1, 4], shape: [3])).backward()
        XCTAssertEqual(table.grad!.values, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 2, 2, 2])
    }

    func testEmbeddingErrors() {
        let table = Tensor(zeros: [3, 2])
        assertThrowsTensorError("embedding: id 3 at position 1 out of range 0..<3") { try Ops.embedding(table, ids: [0, 3], shape: [2]) }
        assertThrowsTensorError("embedding: id -1 at position 0 out of range 0..<3") { try Ops.embedding(table, ids: [-1], shape: [1]) }
        assertThrowsTensorError("embedding: 3 ids for shape [2, 2] (4 positions)") { try Ops.embedding(table, ids: [0, 1, 2], shape: [2, 2]) }
        assertThrowsTensorError("embedding: table must be 2-D [vocab, dim], got [3]") { try Ops.embedding(Tensor(zeros: [3]), ids: [0], shape: [1]) }
        assertThrowsTensorError("embedding: negative dimension in shape [-1, -4]") { try Ops.embedding(table, ids: [0, 0, 0, 0], shape: [-1, -4]) }
    }

    /// Mean NLL in Double.
    func naiveCrossEntropy(_ logits: [Float], v: Int, targets: [Int32]) -> Double {
        var total = 0.0
        for (r, t) in targets.enumerated() {
            let row = logits[(r * v)..<(r * v + v)].map(Double.init)
            let m = row.max()!
            let lse = m + Foundation.log(row.map { Foundation.exp($0 - m) }.reduce(0, +))
            total += lse - row[Int(t)]
        }
        return total / Double(targets.count)
    }

    func testCrossEntropyForward() throws {
        let logits = TestData.randn([6, 11], seed: 2, std: 3, requiresGrad: false)
        let targets: [Int32] = [0, 10, 3, 3, 7, 1]
        let loss = try Ops.crossEntropy(logits, targets: targets)
        XCTAssertEqual(loss.shape, [])
        XCTAssertEqual(Double(loss.item), naiveCrossEntropy(logits.values, v: 11, targets: targets), accuracy: 1e-5)
        // Uniform logits: log V.
        XCTAssertEqual(try Ops.crossEntropy(Tensor(zeros: [2, 4]), targets: [1, 2]).item, Foundation.log(4), accuracy: 1e-6)
        // [B, T, V] flattened.
        let l3 = TestData.randn([2, 3, 5], seed: 3, requiresGrad: false)
        let t3: [Int32] = [0, 1, 2, 3, 4, 0]
        XCTAssertEqual(Double(try Ops.crossEntropy(l3, targets: t3).item), naiveCrossEntropy(l3.values, v: 5, targets: t3), accuracy: 1e-5)
        // Extreme logits stay finite.
        let big = TestData.tensor([1, 3], [1000, -1000, 0])
        XCTAssertEqual(try Ops.crossEntropy(big, targets: [0]).item, 0, accuracy: 1e-6)
        XCTAssertEqual(try Ops.crossEntropy(big, targets: [2]).item, 1000, accuracy: 1e-3)
    }

    func testCrossEntropyLargeParallel() throws {
        let logits = TestData.randn([256, 300], seed: 4, requiresGrad: false)
        var rng = RandomGenerator(seed: 5)
        let targets = (0..<256).map { _ in Int32(rng.below(300)) }
        XCTAssertEqual(Double(try Ops.crossEntropy(logits, targets: targets).item),
                       naiveCrossEntropy(logits.values, v: 300, targets: targets), accuracy: 1e-5)
    }

    func testCrossEntropyGradients() throws {
        let logits = TestData.randn([4, 6], seed: 6, std: 2)
        GradCheck.check([logits], "crossEntropy") { try Ops.crossEntropy($0[0], targets: [5, 0, 2, 2]) }
        GradCheck.check([TestData.randn([2, 2, 3], seed: 7)], "crossEntropy 3-D") { try Ops.crossEntropy($0[0], targets: [0, 1, 2, 1]) }
        // Analytic: (softmax - onehot) / N.
        logits.grad = nil
        try Ops.crossEntropy(logits, targets: [5, 0, 2, 2]).backward()
        let sm = Ops.softmax(logits).values
        var expect = sm.map { $0 / 4 }
        for (r, t) in [5, 0, 2, 2].enumerated() { expect[r * 6 + t] -= 0.25 }
        assertClose(logits.grad!.values, expect, tol: 1e-6)
    }

    func testCrossEntropyErrors() {
        let l = Tensor(zeros: [2, 3])
        assertThrowsTensorError("crossEntropy: 3 targets for 2 rows of logits [2, 3]") { try Ops.crossEntropy(l, targets: [0, 1, 2]) }
        assertThrowsTensorError("crossEntropy: target 3 at row 1 out of range 0..<3") { try Ops.crossEntropy(l, targets: [0, 3]) }
        assertThrowsTensorError("crossEntropy: target -1 at row 0 out of range 0..<3") { try Ops.crossEntropy(l, targets: [-1, 0]) }
        assertThrowsTensorError("crossEntropy: logits must have at least 1 dimension, got []") { try Ops.crossEntropy(Tensor(zeros: []), targets: [0]) }
        assertThrowsTensorError("crossEntropy: logits [2, 0] have no classes") { try Ops.crossEntropy(Tensor(zeros: [2, 0]), targets: [0, 0]) }
        assertThrowsTensorError("crossEntropy: logits [0, 3] have no rows") { try Ops.crossEntropy(Tensor(zeros: [0, 3]), targets: []) }
    }
}
