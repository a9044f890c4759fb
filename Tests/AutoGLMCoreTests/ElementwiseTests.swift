import AutoGLMCore
import Foundation
import XCTest

/// Naive NumPy broadcasting of a binary function, for reference values.
func naiveBroadcast(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> (shape: [Int], values: [Float]) {
    let n = max(a.ndim, b.ndim)
    let ap = Array(repeating: 1, count: n - a.ndim) + a.shape
    let bp = Array(repeating: 1, count: n - b.ndim) + b.shape
    let shape = (0..<n).map { ap[$0] == 1 ? bp[$0] : ap[$0] }
    let count = shape.reduce(1, *)
    var out = [Float](repeating: 0, count: count)
    let av = a.values, bv = b.values
    for i in 0..<count {
        var rem = i, ia = 0, ib = 0, sa = 1, sb = 1
        for d in stride(from: n - 1, through: 0, by: -1) {
            let idx = rem % shape[d]; rem /= shape[d]
            if ap[d] != 1 { ia += idx * sa }
            if bp[d] != 1 { ib += idx * sb }
            sa *= ap[d]; sb *= bp[d]
        }
        out[i] = f(av[ia], bv[ib])
    }
    return (shape, out)
}

final class ElementwiseTests: XCTestCase {
    let shapePairs: [([Int], [Int])] = [
        ([2, 3, 4], [2, 3, 4]),   // equal
        ([2, 3, 4], [4]),         // b over leading dims
        ([2, 3, 4], [3, 4]),
        ([4], [2, 3, 4]),         // a over leading dims
        ([2, 1, 4], [3, 1]),      // both broadcast
        ([2, 3], [2, 1]),         // trailing size-1
        ([3, 1, 2], [1, 4, 1]),
        ([], [2, 3]),             // scalar
        ([2, 3], []),
        ([1], [1, 1]),
    ]

    func testForwardMatchesNaiveBroadcasting() throws {
        let ops: [(String, (Tensor, Tensor) throws -> Tensor, (Float, Float) -> Float)] = [
            ("add", Ops.add, { $0 + $1 }), ("sub", Ops.sub, { $0 - $1 }),
            ("mul", Ops.mul, { $0 * $1 }), ("div", Ops.div, { $0 / $1 }),
        ]
        for (i, (sa, sb)) in shapePairs.enumerated() {
            let a = TestData.randn(sa, seed: UInt64(i), requiresGrad: false)
            let b = TestData.uniform(sb, seed: UInt64(100 + i), 0.5, 2, requiresGrad: false)
            for (name, op, f) in ops {
                let out = try op(a, b)
                let ref = naiveBroadcast(a, b, f)
                XCTAssertEqual(out.shape, ref.shape, "\(name) \(sa) \(sb)")
                assertClose(out.values, ref.values, "\(name) \(sa) \(sb)")
            }
        }
    }

    func testLargeParallelForwardAndBackward() throws {
        // Big enough for the parallel kernels; bias-style broadcast and equal shapes.
        let a = TestData.randn([300, 512], seed: 1)
        let b = TestData.randn([512], seed: 2)
        let out = try Ops.mul(a, b)
        let ref = naiveBroadcast(a, b, *)
        assertClose(out.values, ref.values)
        try Ops.sumAll(out).backward()
        let av = a.values, bv = b.values
        var db = [Float](repeating: 0, count: 512)
        for r in 0..<300 { for c in 0..<512 { db[c] += av[r * 512 + c] } }
        assertClose(a.grad!.values, (0..<(300 * 512)).map { bv[$0 % 512] })
        assertClose(b.grad!.values, db, tol: 1e-4)

        let c = TestData.randn([200_000], seed: 3), d = TestData.randn([200_000], seed: 4)
        let s = try Ops.sub(c, d)
        assertClose(s.values, zip(c.values, d.values).map { $0 - $1 })
        try Ops.sumAll(s).backward()
        XCTAssertTrue(c.grad!.values.allSatisfy { $0 == 1 })
        XCTAssertTrue(d.grad!.values.allSatisfy { $0 == -1 })
    }

    func testBinaryGradients() {
        let ops: [(String, (Tensor, Tensor) throws -> Tensor)] = [
            ("add", Ops.add), ("sub", Ops.sub), ("mul", Ops.mul), ("div", Ops.div),
        ]
        for (i, (sa, sb)) in shapePairs.enumerated() {
            for (name, op) in ops {
                let a = TestData.randn(sa, seed: UInt64(10 + i))
                // Keep divisors away from zero.
                let b = TestData.uniform(sb, seed: UInt64(200 + i), 0.7, 1.6)
                GradCheck.check([a, b], "\(name) \(sa) \(sb)") { try op($0[0], $0[1]) }
            }
        }
    }

    func testGradientOnlyForInputsThatRequireIt() throws {
        let a = TestData.randn([2, 3], seed: 1)
        let b = TestData.randn([3], seed: 2, requiresGrad: false)
        try Ops.sumAll(try Ops.mul(a, b)).backward()
        XCTAssertNil(b.grad)
        XCTAssertEqual(a.grad!.shape, [2, 3])
    }

    func testIncompatibleShapesThrow() {
        let a = Tensor(zeros: [2, 3]), b = Tensor(zeros: [4])
        assertThrowsTensorError("add: shapes [2, 3] and [4] cannot be broadcast") { try Ops.add(a, b) }
        assertThrowsTensorError("sub: shapes [2, 3] and [3, 3] cannot be broadcast") { try Ops.sub(a, Tensor(zeros: [3, 3])) }
        assertThrowsTensorError("mul: shapes [4] and [2, 3] cannot be broadcast") { try Ops.mul(b, a) }
        assertThrowsTensorError("div: shapes [2, 3] and [4] cannot be broadcast") { try Ops.div(a, b) }
    }

    func testHugeBroadcastThrowsInsteadOfAllocating() {
        // 2^20 x 2^20 elements would be 4 TiB.
        let e = Tensor(zeros: [1, 1 << 20, 0]), f = Tensor(zeros: [1 << 20, 1, 1])
        XCTAssertEqual(try Ops.mul(e, f).shape, [1 << 20, 1 << 20, 0])
        let g = Tensor(zeros: [1 << 20, 1]), h = Tensor(zeros: [1, 1 << 20])
        assertThrowsTensorError("add: shape [1048576, 1048576] has too many elements") { try Ops.add(g, h) }
    }

    func testEmptyTensors() throws {
        let a = Tensor(zeros: [0, 3], requiresGrad: true), b = Tensor(zeros: [3], requiresGrad: true)
        let out = try Ops.add(a, b)
        XCTAssertEqual(out.shape, [0, 3])
        try Ops.sumAll(out).backward()
        XCTAssertEqual(b.grad?.values ?? [0, 0, 0], [0, 0, 0])
    }

    func testAffineExpValues() {
        let a = TestData.tensor([4], [-1, 0, 0.5, 2])
        assertClose(Ops.affine(a, scale: 2, shift: 1).values, [-1, 1, 2, 5])
        assertClose(Ops.exp(a).values, [exp(-1), 1, exp(0.5), exp(2)], tol: 2e-7)
        let special = TestData.tensor([4], [-.infinity, 100, -200, .nan])
        let e = Ops.exp(special).values
        XCTAssertEqual(e[0], 0)
        XCTAssertEqual(e[1], .infinity)
        XCTAssertEqual(e[2], 0)
        XCTAssertTrue(e[3].isNaN)
        // Scalar.
        let s = TestData.tensor([], [3])
        XCTAssertEqual(Ops.affine(s, scale: 2, shift: -1).shape, [])
        XCTAssertEqual(Ops.affine(s, scale: 2, shift: -1).item, 5)
    }

    func testVectorisedExpAccuracy() {
        // Every 1/64 step over the float range used in practice, against libm in Double.
        let xs = stride(from: -103.0, through: 88.5, by: 1.0 / 64).map { Float($0) }
        let t = TestData.tensor([xs.count], xs)
        let e = Ops.exp(t).values
        var worst = 0.0
        for (x, y) in zip(xs, e) {
            let ref = Foundation.exp(Double(x))
            if ref < Double(Float.leastNormalMagnitude) { XCTAssertLessThanOrEqual(abs(Double(y) - ref), 1e-44); continue }
            worst = max(worst, abs(Double(y) - ref) / ref)
        }
        XCTAssertLessThan(worst, 4e-7)
    }

    func testEluGeluValues() {
        let a = TestData.tensor([5], [-2, -0.5, 0, 1, 3])
        assertClose(Ops.elu(a).values, [exp(-2) - 1, exp(-0.5) - 1, 0, 1, 3], tol: 1e-6)
        let g = Ops.gelu(TestData.tensor([5], [1, -1, 0, 2, -3])).values
        assertClose(g, [0.841_344_7, -0.158_655_25, 0, 1.954_499_7, -0.004_049_694_1], tol: 1e-6)
    }

    func testGeluAccuracyAgainstDouble() throws {
        // Every 1/256 step over [-12, 12]: absolute error at float rounding level and the left
        // tail keeps its relative accuracy (where 1 + erff(x/√2) would cancel to 0).
        let xs = stride(from: -12.0, through: 12.0, by: 1.0 / 256).map { Float($0) }
        let t = TestData.tensor([xs.count], xs, requiresGrad: true)
        let y = Ops.gelu(t)
        let yv = y.values
        try y.backward(seed: Tensor(shape: [xs.count], values: [Float](repeating: 1, count: xs.count)))
        let dv = t.grad!.values
        for (i, x) in xs.enumerated() {
            let xd = Double(x)
            let cdf = 0.5 * erfc(-xd / 2.0.squareRoot())
            let ref = xd * cdf
            let dref = cdf + xd * Foundation.exp(-0.5 * xd * xd) / (2 * Double.pi).squareRoot()
            let err = abs(Double(yv[i]) - ref)
            XCTAssertLessThanOrEqual(err, 4e-7 * max(1, abs(xd)), "gelu(\(x))")
            // Relative error in the left tail grows like x² (the conditioning of erfc).
            if x > -8 && x < 0 { XCTAssertLessThanOrEqual(err / abs(ref), 1e-6 + 2e-7 * xd * xd, "gelu(\(x)) relative") }
            XCTAssertLessThanOrEqual(abs(Double(dv[i]) - dref), 1e-6, "gelu'(\(x))")
        }
    }

    func testUnaryGradients() {
        GradCheck.check([TestData.randn([3, 5], seed: 5)], "affine") { Ops.affine($0[0], scale: -1.5, shift: 0.3) }
        GradCheck.check([TestData.randn([3, 5], seed: 6)], "exp") { Ops.exp($0[0]) }
        GradCheck.check([TestData.randn([4, 5], seed: 7, std: 2)], "elu") { Ops.elu($0[0]) }
        GradCheck.check([TestData.randn([4, 5], seed: 8, std: 2)], "gelu") { Ops.gelu($0[0]) }
        GradCheck.check([TestData.randn([], seed: 9)], "gelu scalar") { Ops.gelu($0[0]) }
        // Two uses: the second backward adds into the gradient the first one stored.
        GradCheck.check([TestData.randn([4, 5], seed: 10, std: 2)], "gelu twice") {
            try Ops.add(Ops.gelu($0[0]), Ops.mul(Ops.gelu($0[0]), $0[0]))
        }
    }

    func testLargeUnaryMatchesSmall() {
        // The parallel path must equal elementwise evaluation.
        let a = TestData.randn([100_003], seed: 11, requiresGrad: false)
        let g = Ops.gelu(a).values, e = Ops.elu(a).values, av = a.values
        // Recorded for a backward, GELU also computes its slope: the values must not change.
        let recorded = Ops.gelu(TestData.randn([100_003], seed: 11, requiresGrad: true)).values
        XCTAssertEqual(recorded.map(\.bitPattern), g.map(\.bitPattern))
        for i in stride(from: 0, to: av.count, by: 997) {
            let x = av[i]
            XCTAssertEqual(g[i], 0.5 * x * (1 + erff(x * 0.707_106_77)), accuracy: 1e-6 * max(1, abs(x)))
            XCTAssertEqual(e[i], x > 0 ? x : Foundation.exp(x) - 1, accuracy: 1e-6)
        }
    }
}
