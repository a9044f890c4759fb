import AutoGLMCore
import Foundation
import XCTest

/// sin, cos, sqrt and rsqrt: values against libm in Double, the special values the doc comments
/// promise, and gradients.
final class UnaryMathTests: XCTestCase {
    /// Every 1/64 step over [-20, 20], then arguments where a naive range reduction loses digits.
    let trigArguments: [Float] = stride(from: -20.0, through: 20.0, by: 1.0 / 64).map { Float($0) }
        + [1e4, -3.1e5, 1e6 + 0.5, 1.5e7, 1e30, -8.5e37, .pi, -.pi / 2, 1e-30, 0]

    /// Asserts op(xs) is within `ulps` ulps (of the float result) of ref computed in Double.
    func assertWithinUlps(_ op: (Tensor) -> Tensor, _ xs: [Float], ulps: Double, _ name: String,
                          _ ref: (Double) -> Double, file: StaticString = #filePath, line: UInt = #line) {
        let ys = op(TestData.tensor([xs.count], xs)).values
        for (x, y) in zip(xs, ys) {
            let exact = ref(Double(x))
            let tol = ulps * Double(Float(exact).ulp)
            XCTAssertLessThanOrEqual(abs(Double(y) - exact), tol, "\(name)(\(x)) = \(y), exact \(exact)", file: file, line: line)
        }
    }

    func testSinCosWithinOneUlp() {
        assertWithinUlps(Ops.sin, trigArguments, ulps: 1, "sin") { Foundation.sin($0) }
        assertWithinUlps(Ops.cos, trigArguments, ulps: 1, "cos") { Foundation.cos($0) }
        let special = TestData.tensor([3], [.infinity, -.infinity, .nan])
        XCTAssertTrue(Ops.sin(special).values.allSatisfy(\.isNaN))
        XCTAssertTrue(Ops.cos(special).values.allSatisfy(\.isNaN))
    }

    func testSqrtRsqrtValues() {
        var rng = RandomGenerator(seed: 3)
        // Across many binades, subnormals included.
        let xs: [Float] = (0..<2000).map { _ in Float(Foundation.exp2(rng.uniform() * 250 - 140)) } + [1, 4, 2, 0.25]
        // Square root in Double rounded to float is the correctly rounded float square root.
        let s = Ops.sqrt(TestData.tensor([xs.count], xs)).values
        for (x, y) in zip(xs, s) { XCTAssertEqual(y, Float(Double(x).squareRoot()), "sqrt(\(x))") }
        assertWithinUlps(Ops.rsqrt, xs.filter { $0 >= Float.leastNormalMagnitude }, ulps: 2, "rsqrt") { 1 / $0.squareRoot() }
    }

    func testSqrtRsqrtSpecialValues() {
        let x = TestData.tensor([7], [-1, -.infinity, .nan, -0.0, 0, .infinity, -1e-30])
        let s = Ops.sqrt(x).values, r = Ops.rsqrt(x).values
        for i in [0, 1, 2, 6] {
            XCTAssertTrue(s[i].isNaN, "sqrt(\(x.values[i])) = \(s[i])")
            XCTAssertTrue(r[i].isNaN, "rsqrt(\(x.values[i])) = \(r[i])")
        }
        XCTAssertEqual(s[3].bitPattern, Float(-0.0).bitPattern)   // √(-0) = -0
        XCTAssertEqual(s[4].bitPattern, Float(0).bitPattern)
        XCTAssertEqual(s[5], .infinity)
        XCTAssertEqual(r[3], -.infinity)                           // 1 / -0
        XCTAssertEqual(r[4], .infinity)
        XCTAssertEqual(r[5], 0)
    }

    func testGradientsAtZero() throws {
        // sqrt' is +inf at 0: the gradient is g / 0, so its sign follows g (and 0 / 0 is NaN).
        let x = TestData.tensor([3], [0, 0, 0], requiresGrad: true)
        try Ops.sqrt(x).backward(seed: TestData.tensor([3], [1, -2, 0]))
        let g = x.grad!.values
        XCTAssertEqual(g[0], .infinity)
        XCTAssertEqual(g[1], -.infinity)
        XCTAssertTrue(g[2].isNaN)
        // rsqrt' = -rsqrt³ / 2: -inf at +0, +inf at -0.
        let z = TestData.tensor([2], [0, -0.0], requiresGrad: true)
        try Ops.rsqrt(z).backward(seed: TestData.tensor([2], [1, 1]))
        XCTAssertEqual(z.grad!.values, [-.infinity, .infinity])
        // Negative inputs: NaN gradients.
        let n = TestData.tensor([1], [-4], requiresGrad: true)
        try Ops.sqrt(n).backward(seed: TestData.tensor([1], [1]))
        XCTAssertTrue(n.grad!.values[0].isNaN)
    }

    func testGradients() {
        GradCheck.check([TestData.randn([4, 5], seed: 1, std: 2)], "sin") { Ops.sin($0[0]) }
        GradCheck.check([TestData.randn([4, 5], seed: 2, std: 2)], "cos") { Ops.cos($0[0]) }
        // The finite region, away from the singularity at 0 (central differences need x > eps).
        GradCheck.check([TestData.uniform([4, 5], seed: 3, 0.3, 3)], "sqrt") { Ops.sqrt($0[0]) }
        GradCheck.check([TestData.uniform([4, 5], seed: 4, 0.3, 3)], "rsqrt") { Ops.rsqrt($0[0]) }
        GradCheck.check([TestData.uniform([], seed: 5, 0.5, 2)], "sqrt scalar") { Ops.sqrt($0[0]) }
        // Used twice: the second backward adds into the gradient the first one stored.
        GradCheck.check([TestData.uniform([3, 4], seed: 6, 0.5, 2)], "rsqrt · sin") {
            try Ops.mul(Ops.rsqrt($0[0]), Ops.sin($0[0]))
        }
    }

    func testLargeParallelMatchesDerivative() throws {
        // Large enough for the parallel kernels, forward and backward.
        let x = TestData.uniform([100_003], seed: 7, 0.1, 10)
        let ops: [(String, (Tensor) -> Tensor, (Double) -> Double, (Double) -> Double)] = [
            ("sin", Ops.sin, { Foundation.sin($0) }, { Foundation.cos($0) }),
            ("cos", Ops.cos, { Foundation.cos($0) }, { -Foundation.sin($0) }),
            ("sqrt", Ops.sqrt, { $0.squareRoot() }, { 0.5 / $0.squareRoot() }),
            ("rsqrt", Ops.rsqrt, { 1 / $0.squareRoot() }, { -0.5 / ($0 * $0.squareRoot()) }),
        ]
        let xv = x.values
        for (name, op, f, df) in ops {
            x.grad = nil
            let y = op(x)
            try Ops.sumAll(y).backward()
            let yv = y.values, gv = x.grad!.values
            let badValue = xv.indices.first { abs(Double(yv[$0]) - f(Double(xv[$0]))) > 2e-7 * max(1, abs(f(Double(xv[$0])))) }
            let badGrad = xv.indices.first { abs(Double(gv[$0]) - df(Double(xv[$0]))) > 1e-6 * max(1, abs(df(Double(xv[$0])))) }
            XCTAssertNil(badValue.map { "\(name)(\(xv[$0])) = \(yv[$0])" })
            XCTAssertNil(badGrad.map { "\(name)'(\(xv[$0])) = \(gv[$0])" })
        }
    }
}
