import AutoGLMCore
import XCTest

final class NormalizationTests: XCTestCase {
    /// Reference layer norm in Double.
    func naive(_ x: [Float], c: Int, w: [Float]?, b: [Float]?, eps: Double) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        for r in 0..<(x.count / c) {
            let row = x[(r * c)..<(r * c + c)].map(Double.init)
            let mean = row.reduce(0, +) / Double(c)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(c)
            for j in 0..<c {
                var y = (row[j] - mean) / (variance + eps).squareRoot()
                if let w { y *= Double(w[j]) }
                if let b { y += Double(b[j]) }
                out[r * c + j] = Float(y)
            }
        }
        return out
    }

    func testForwardMatchesNaive() throws {
        // 10: one 8-lane vector plus a tail; 37: four vectors plus a tail; 128: whole vectors
        // only, with a large mean (the two-pass variance must not cancel).
        for (c, shift) in [(10, 0), (37, 0), (128, 100)] as [(Int, Float)] {
            let x = Ops.affine(TestData.randn([2, 3, c], seed: 1, std: 3, requiresGrad: false), scale: 1, shift: shift)
            let w = TestData.randn([c], seed: 2, requiresGrad: false), b = TestData.randn([c], seed: 3, requiresGrad: false)
            for (wt, bt) in [(w, b), (w, nil), (nil, b), (nil, nil)] as [(Tensor?, Tensor?)] {
                let y = try Ops.layerNorm(x, weight: wt, bias: bt, eps: 1e-5)
                XCTAssertEqual(y.shape, x.shape)
                assertClose(y.values, naive(x.values, c: c, w: wt?.values, b: bt?.values, eps: 1e-5), tol: 5e-5,
                            "c \(c) shift \(shift)")
            }
        }
        let x = TestData.randn([2, 3, 10], seed: 1, std: 3, requiresGrad: false)
        // Without affine parameters each row has mean 0 and variance ~1.
        let y = try Ops.layerNorm(x, weight: nil, bias: nil, eps: 0).values
        let row = y[0..<10]
        XCTAssertEqual(row.reduce(0, +) / 10, 0, accuracy: 1e-6)
        XCTAssertEqual(row.map { $0 * $0 }.reduce(0, +) / 10, 1, accuracy: 1e-5)
    }

    func testGradients() {
        let x = TestData.randn([3, 7], seed: 4), w = TestData.randn([7], seed: 5), b = TestData.randn([7], seed: 6)
        GradCheck.check([x, w, b], "layerNorm weight+bias") { try Ops.layerNorm($0[0], weight: $0[1], bias: $0[2], eps: 1e-5) }
        GradCheck.check([x], "layerNorm no affine") { try Ops.layerNorm($0[0], weight: nil, bias: nil, eps: 1e-5) }
        GradCheck.check([x, w], "layerNorm weight only") { try Ops.layerNorm($0[0], weight: $0[1], bias: nil, eps: 1e-5) }
        GradCheck.check([x, b], "layerNorm bias only") { try Ops.layerNorm($0[0], weight: nil, bias: $0[1], eps: 1e-5) }
        // Rows of several 8-lane vectors with a ragged tail (37 = 4·8 + 5).
        let xw = TestData.randn([3, 37], seed: 13, std: 2), ww = TestData.randn([37], seed: 14), bw = TestData.randn([37], seed: 15)
        GradCheck.check([xw, ww, bw], "layerNorm 37 wide") { try Ops.layerNorm($0[0], weight: $0[1], bias: $0[2], eps: 1e-5) }
        GradCheck.check([xw], "layerNorm 37 wide no affine") { try Ops.layerNorm($0[0], weight: nil, bias: nil, eps: 1e-5) }
        let x3 = TestData.randn([2, 2, 5], seed: 7)
        let w2 = TestData.randn([5], seed: 8, requiresGrad: false)
        GradCheck.check([x3, w2], "layerNorm 3-D frozen weight") { try Ops.layerNorm($0[0], weight: $0[1], bias: nil, eps: 1e-5) }
    }

    func testLargeParallelBackwardMatchesSmall() throws {
        // 512 rows x 256: parallel chunks with private dW/dB partials must give the serial result.
        let x = TestData.randn([512, 256], seed: 9), w = TestData.randn([256], seed: 10), b = TestData.randn([256], seed: 11)
        let r = TestData.randn([512, 256], seed: 12, requiresGrad: false)
        try Ops.sumAll(try Ops.mul(try Ops.layerNorm(x, weight: w, bias: b, eps: 1e-5), r)).backward()
        // Reference: the same computation one row-block at a time (each below the parallel threshold).
        var dw = [Float](repeating: 0, count: 256), db = [Float](repeating: 0, count: 256)
        var dx: [Float] = []
        for blk in 0..<16 {
            let xs = TestData.tensor([32, 256], Array(x.values[(blk * 8192)..<((blk + 1) * 8192)]), requiresGrad: true)
            let rs = TestData.tensor([32, 256], Array(r.values[(blk * 8192)..<((blk + 1) * 8192)]))
            let wl = TestData.tensor([256], w.values, requiresGrad: true), bl = TestData.tensor([256], b.values, requiresGrad: true)
            try Ops.sumAll(try Ops.mul(try Ops.layerNorm(xs, weight: wl, bias: bl, eps: 1e-5), rs)).backward()
            dx += xs.grad!.values
            for j in 0..<256 { dw[j] += wl.grad!.values[j]; db[j] += bl.grad!.values[j] }
        }
        assertClose(x.grad!.values, dx, tol: 1e-5)
        assertClose(w.grad!.values, dw, tol: 1e-4)
        assertClose(b.grad!.values, db, tol: 1e-4)
    }

    func testErrors() {
        let x = Tensor(zeros: [2, 4])
        assertThrowsTensorError("layerNorm: weight shape [3] does not match [4] for input [2, 4]") {
            try Ops.layerNorm(x, weight: Tensor(zeros: [3]), bias: nil, eps: 1e-5)
        }
        assertThrowsTensorError("layerNorm: bias shape [1, 4] does not match [4] for input [2, 4]") {
            try Ops.layerNorm(x, weight: nil, bias: Tensor(zeros: [1, 4]), eps: 1e-5)
        }
        assertThrowsTensorError("layerNorm: needs at least 1 dimension, got []") {
            try Ops.layerNorm(Tensor(zeros: []), weight: nil, bias: nil, eps: 1e-5)
        }
    }
}
