import AutoGLMCore
import XCTest

/// slice and concat along every dimension of 8-D tensors (the ABI's largest rank), negative
/// dims included, against index arithmetic.
final class SliceConcatRankTests: XCTestCase {
    let shape = [2, 1, 3, 2, 1, 2, 3, 2]

    /// The multi-index of flat position `flat` in a row-major `shape`.
    func index(_ flat: Int, in shape: [Int]) -> [Int] {
        var rem = flat, idx = [Int](repeating: 0, count: shape.count)
        for d in stride(from: shape.count - 1, through: 0, by: -1) { idx[d] = rem % shape[d]; rem /= shape[d] }
        return idx
    }

    /// The flat position of a multi-index in a row-major `shape`.
    func flat(_ idx: [Int], in shape: [Int]) -> Int {
        zip(idx, shape).reduce(0) { $0 * $1.1 + $1.0 }
    }

    func testSliceEveryDimOfRank8() throws {
        let a = TestData.randn(shape, seed: 1, requiresGrad: false)
        let av = a.values
        for d in 0..<shape.count {
            // The last entries (negative start) when the dim has several, else the only one.
            let length = max(shape[d] - 1, 1), start = shape[d] > 1 ? -length : 0
            for dim in [d, d - shape.count] {
                let s = try Ops.slice(a, dim: dim, start: start, length: length)
                var want = shape; want[d] = length
                XCTAssertEqual(s.shape, want, "dim \(dim)")
                let sv = s.values, first = start < 0 ? start + shape[d] : start
                for k in 0..<s.count {
                    var idx = index(k, in: want); idx[d] += first
                    XCTAssertEqual(sv[k], av[flat(idx, in: shape)], "dim \(dim) [\(k)]")
                }
            }
        }
        GradCheck.check([TestData.randn(shape, seed: 2)], "slice rank 8 dim -2") {
            try Ops.slice($0[0], dim: -2, start: 1, length: 2)
        }
        GradCheck.check([TestData.randn(shape, seed: 3)], "slice rank 8 dim 0") {
            try Ops.slice($0[0], dim: 0, start: 1, length: 1)
        }
        assertThrowsTensorError("slice: start -4 length 1 out of range for dim 6 of size 3 in \(shape)") {
            try Ops.slice(a, dim: 6, start: -4, length: 1)
        }
        assertThrowsTensorError("slice: dim -9 out of range for a 8-D tensor") { try Ops.slice(a, dim: -9, start: 0, length: 1) }
    }

    func testConcatEveryDimOfRank8() throws {
        for d in 0..<shape.count {
            var other = shape; other[d] = 2
            let a = TestData.randn(shape, seed: UInt64(10 + d), requiresGrad: false)
            let b = TestData.randn(other, seed: UInt64(20 + d), requiresGrad: false)
            let c = try Ops.concat([a, b], dim: d - shape.count)
            var want = shape; want[d] += 2
            XCTAssertEqual(c.shape, want, "dim \(d)")
            let av = a.values, bv = b.values, cv = c.values
            for k in 0..<c.count {
                var idx = index(k, in: want)
                let expected: Float
                if idx[d] < shape[d] { expected = av[flat(idx, in: shape)] } else {
                    idx[d] -= shape[d]
                    expected = bv[flat(idx, in: other)]
                }
                XCTAssertEqual(cv[k], expected, "dim \(d) [\(k)]")
            }
        }
        var other = shape; other[5] = 1
        GradCheck.check([TestData.randn(shape, seed: 4), TestData.randn(other, seed: 5)], "concat rank 8 dim 5") {
            try Ops.concat($0, dim: 5)
        }
    }
}
