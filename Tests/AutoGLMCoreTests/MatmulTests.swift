import AutoGLMCore
import XCTest

/// Naive batched matmul with broadcasting, in Double, for reference values.
func naiveMatmul(_ a: Tensor, _ b: Tensor, tA: Bool, tB: Bool) -> (shape: [Int], values: [Float]) {
    let ar = a.shape[a.ndim - 2], ac = a.shape[a.ndim - 1], br = b.shape[b.ndim - 2], bc = b.shape[b.ndim - 1]
    let m = tA ? ac : ar, k = tA ? ar : ac, n = tB ? br : bc
    let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
    let nb = max(batchA.count, batchB.count)
    let pa = Array(repeating: 1, count: nb - batchA.count) + batchA
    let pb = Array(repeating: 1, count: nb - batchB.count) + batchB
    let batch = (0..<nb).map { pa[$0] == 1 ? pb[$0] : pa[$0] }
    let nBatch = batch.reduce(1, *)
    let av = a.values, bv = b.values
    var out = [Float](repeating: 0, count: nBatch * m * n)
    for bi in 0..<nBatch {
        var rem = bi, ia = 0, ib = 0, sa = 1, sb = 1
        for d in stride(from: nb - 1, through: 0, by: -1) {
            let idx = rem % batch[d]; rem /= batch[d]
            if pa[d] != 1 { ia += idx * sa }
            if pb[d] != 1 { ib += idx * sb }
            sa *= pa[d]; sb *= pb[d]
        }
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let x = tA ? av[ia * ar * ac + p * ac + i] : av[ia * ar * ac + i * ac + p]
                    let y = tB ? bv[ib * br * bc + j * bc + p] : bv[ib * br * bc + p * bc + j]
                    s += Double(x) * Double(y)
                }
                out[bi * m * n + i * n + j] = Float(s)
            }
        }
    }
    return (batch + [m, n], out)
}

final class MatmulTests: XCTestCase {
    /// (a shape, b shape, transposeA, transposeB)
    let cases: [([Int], [Int], Bool, Bool)] = [
        ([3, 4], [4, 5], false, false),
        ([4, 3], [4, 5], true, false),
        ([3, 4], [5, 4], false, true),
        ([4, 3], [5, 4], true, true),
        ([2, 3, 4], [2, 4, 5], false, false),     // same batch
        ([2, 3, 4], [2, 5, 4], false, true),
        ([2, 4, 3], [2, 4, 5], true, false),
        ([2, 2, 3, 4], [4, 5], false, false),     // b 2-D: folded into one GEMM
        ([2, 3, 4], [5, 4], false, true),
        ([2, 4, 3], [4, 5], true, false),         // transposed a with shared b: per batch
        ([3, 4], [2, 4, 5], false, false),        // a 2-D broadcast over b's batch
        ([3, 4], [2, 5, 4], false, true),
        ([2, 1, 3, 4], [1, 3, 4, 2], false, false), // general batch broadcast
        ([1, 3, 4], [2, 4, 5], false, false),
        ([2, 1, 4, 3], [3, 2, 4], true, true),
    ]

    func testForwardMatchesNaive() throws {
        for (i, (sa, sb, tA, tB)) in cases.enumerated() {
            let a = TestData.randn(sa, seed: UInt64(i), requiresGrad: false)
            let b = TestData.randn(sb, seed: UInt64(50 + i), requiresGrad: false)
            let out = try Ops.matmul(a, b, transposeA: tA, transposeB: tB)
            let ref = naiveMatmul(a, b, tA: tA, tB: tB)
            XCTAssertEqual(out.shape, ref.shape, "\(sa) \(sb) \(tA) \(tB)")
            assertClose(out.values, ref.values, tol: 1e-5, "\(sa) \(sb) \(tA) \(tB)")
        }
    }

    func testGradients() {
        for (i, (sa, sb, tA, tB)) in cases.enumerated() {
            let a = TestData.randn(sa, seed: UInt64(i))
            let b = TestData.randn(sb, seed: UInt64(50 + i))
            GradCheck.check([a, b], "matmul \(sa)\(tA ? "ᵀ" : "") x \(sb)\(tB ? "ᵀ" : "")") {
                try Ops.matmul($0[0], $0[1], transposeA: tA, transposeB: tB)
            }
        }
    }

    func testGradientOfOneSideOnly() {
        let a = TestData.randn([2, 3, 4], seed: 1, requiresGrad: false)
        let b = TestData.randn([4, 5], seed: 2)
        GradCheck.check([a, b], "b only") { try Ops.matmul($0[0], $0[1]) }
        let c = TestData.randn([2, 3, 4], seed: 3)
        let d = TestData.randn([2, 5, 4], seed: 4, requiresGrad: false)
        GradCheck.check([c, d], "a only") { try Ops.matmul($0[0], $0[1], transposeB: true) }
    }

    func testEmptyInnerDimension() throws {
        let a = Tensor(zeros: [2, 0], requiresGrad: true), b = Tensor(zeros: [0, 3], requiresGrad: true)
        let out = try Ops.matmul(a, b)
        XCTAssertEqual(out.shape, [2, 3])
        XCTAssertEqual(out.values, [Float](repeating: 0, count: 6))
        try Ops.sumAll(out).backward()
    }

    func testErrors() {
        let a = Tensor(zeros: [2, 3]), b = Tensor(zeros: [4, 5])
        assertThrowsTensorError("matmul: inner dimensions differ: [2, 3] x [4, 5]") { try Ops.matmul(a, b) }
        assertThrowsTensorError("matmul: inner dimensions differ: [2, 3] x [4, 5]ᵀ") { try Ops.matmul(a, b, transposeB: true) }
        assertThrowsTensorError("matmul: operands need at least 2 dimensions: [3] x [3, 2]") {
            try Ops.matmul(Tensor(zeros: [3]), Tensor(zeros: [3, 2]))
        }
        assertThrowsTensorError("matmul: batch dimensions cannot be broadcast: [2, 3, 4] x [3, 4, 5]") {
            try Ops.matmul(Tensor(zeros: [2, 3, 4]), Tensor(zeros: [3, 4, 5]))
        }
    }

    func testLinearForwardAndGradients() throws {
        let x = TestData.randn([2, 3, 4], seed: 7), w = TestData.randn([5, 4], seed: 8)
        let y = try Ops.linear(x, w)
        XCTAssertEqual(y.shape, [2, 3, 5])
        let ref = naiveMatmul(x, w, tA: false, tB: true)
        assertClose(y.values, ref.values)
        GradCheck.check([x, w], "linear 3-D") { try Ops.linear($0[0], $0[1]) }
        GradCheck.check([TestData.randn([4], seed: 9), TestData.randn([3, 4], seed: 10)], "linear 1-D") {
            try Ops.linear($0[0], $0[1])
        }
    }

    func testLinearWithResidualMatchesComposedOps() throws {
        let x = TestData.randn([2, 3, 4], seed: 11), w = TestData.randn([5, 4], seed: 12)
        let r = TestData.randn([2, 3, 5], seed: 13)
        let y = try Ops.linear(x, w, adding: r)
        let ref = naiveMatmul(x, w, tA: false, tB: true)
        assertClose(y.values, zip(ref.values, r.values).map { $0 + $1 })
        GradCheck.check([x, w, r], "linear + residual") { try Ops.linear($0[0], $0[1], adding: $0[2]) }
        // The residual also feeds another op: the handed-over gradient must still accumulate
        // with that op's contribution, in either order of the backward closures.
        GradCheck.check([x, w, r], "residual used twice") {
            let s = try Ops.linear($0[0], $0[1], adding: $0[2])
            return try Ops.add(try Ops.mul(s, s), try Ops.mul($0[2], $0[2]))
        }
        // The input is the residual (square weight): both paths add into one gradient.
        let sq = TestData.randn([4, 4], seed: 14)
        GradCheck.check([x, sq], "residual is the input") { try Ops.linear($0[0], $0[1], adding: $0[0]) }
        assertThrowsTensorError("linear: residual [2, 3, 4] is not the output's shape [2, 3, 5]") {
            try Ops.linear(x, w, adding: Tensor(zeros: [2, 3, 4]))
        }
    }

    func testLinearAccumulatesIntoExistingGrad() throws {
        let x = TestData.randn([3, 4], seed: 1), w = TestData.randn([2, 4], seed: 2)
        try Ops.sumAll(try Ops.linear(x, w)).backward()
        let once = w.grad!.values, onceX = x.grad!.values
        try Ops.sumAll(try Ops.linear(x, w)).backward()
        assertClose(w.grad!.values, once.map { 2 * $0 })
        assertClose(x.grad!.values, onceX.map { 2 * $0 })
    }

    func testHugeResultThrows() {
        // k = 0 keeps the inputs empty while m x n would be 2^60 elements.
        let a = Tensor(zeros: [1 << 30, 0]), b = Tensor(zeros: [0, 1 << 30])
        assertThrowsTensorError("matmul: shape [1073741824, 1073741824] has too many elements") { try Ops.matmul(a, b) }
        assertThrowsTensorError("linear: shape [1073741824, 1073741824] has too many elements") {
            try Ops.linear(a, Tensor(zeros: [1 << 30, 0]))
        }
    }

    func testLinearErrors() {
        assertThrowsTensorError("linear: input features differ: [2, 3] x [5, 4]ᵀ") {
            try Ops.linear(Tensor(zeros: [2, 3]), Tensor(zeros: [5, 4]))
        }
        assertThrowsTensorError("linear: weight must be 2-D [out, in], got [4]") {
            try Ops.linear(Tensor(zeros: [2, 4]), Tensor(zeros: [4]))
        }
        assertThrowsTensorError("linear: input must have at least 1 dimension, got []") {
            try Ops.linear(Tensor(zeros: []), Tensor(zeros: [1, 1]))
        }
    }
}
