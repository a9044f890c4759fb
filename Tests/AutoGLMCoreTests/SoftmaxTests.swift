import AutoGLMCore
import Foundation
import XCTest

final class SoftmaxTests: XCTestCase {
    /// Reference softmax of one row in Double over the first `n` entries (zeros after).
    func naiveRow(_ x: [Float], allowed n: Int) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        let vals = x.prefix(n).map(Double.init)
        guard let m = vals.max(), m > -.infinity else { return out }
        let e = vals.map { Foundation.exp($0 - m) }
        let s = e.reduce(0, +)
        for j in 0..<n { out[j] = Float(e[j] / s) }
        return out
    }

    func testRowsSumToOne() {
        let a = TestData.randn([2, 3, 7], seed: 1, std: 3, requiresGrad: false)
        let y = Ops.softmax(a)
        XCTAssertEqual(y.shape, [2, 3, 7])
        let av = a.values, yv = y.values
        for r in 0..<6 {
            let row = Array(yv[(r * 7)..<(r * 7 + 7)])
            XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-6)
            assertClose(row, naiveRow(Array(av[(r * 7)..<(r * 7 + 7)]), allowed: 7), tol: 1e-6)
        }
    }

    func testCausalSquareHasZerosAboveDiagonal() {
        let a = TestData.randn([2, 4, 4], seed: 2, requiresGrad: false)
        let yv = Ops.softmax(a, causal: true).values, av = a.values
        for b in 0..<2 {
            for i in 0..<4 {
                let o = (b * 4 + i) * 4
                let row = Array(yv[o..<(o + 4)])
                for j in (i + 1)..<5 where j < 4 { XCTAssertEqual(row[j], 0) }
                XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-6)
                assertClose(row, naiveRow(Array(av[o..<(o + 4)]), allowed: i + 1), tol: 1e-6)
            }
        }
    }

    func testCausalRectangular() {
        // rows < cols: query i sees keys j <= i + 2.
        let a = TestData.randn([3, 5], seed: 3, requiresGrad: false)
        let yv = Ops.softmax(a, causal: true).values, av = a.values
        for i in 0..<3 {
            assertClose(Array(yv[(i * 5)..<(i * 5 + 5)]), naiveRow(Array(av[(i * 5)..<(i * 5 + 5)]), allowed: i + 3), tol: 1e-6)
        }
        // rows > cols: the first rows see nothing and are all zeros (no NaN).
        let b = TestData.randn([4, 2], seed: 4, requiresGrad: false)
        let zv = Ops.softmax(b, causal: true).values
        XCTAssertEqual(Array(zv[0..<4]), [0, 0, 0, 0])
        XCTAssertEqual(zv[4], 1)
        XCTAssertEqual(zv[5], 0)
        XCTAssertEqual(zv[6] + zv[7], 1, accuracy: 1e-6)
    }

    func testMinusInfinityInputs() throws {
        let a = TestData.tensor([3, 3], [0, -.infinity, 1,
                                          -.infinity, -.infinity, -.infinity,
                                          -.infinity, 2, -.infinity], requiresGrad: true)
        let y = Ops.softmax(a)
        let e = Float(Foundation.exp(1.0) / (1 + Foundation.exp(1.0)))
        assertClose(y.values, [1 - e, 0, e, 0, 0, 0, 0, 1, 0], tol: 1e-6)
        try Ops.sumAll(try Ops.mul(y, TestData.randn([3, 3], seed: 5, requiresGrad: false))).backward()
        XCTAssertFalse(a.grad!.values.contains { $0.isNaN })
        XCTAssertEqual(a.grad!.values[1], 0)
        XCTAssertEqual(Array(a.grad!.values[3..<6]), [0, 0, 0])
    }

    func testLargeValuesAreStable() {
        let a = TestData.tensor([1, 3], [1000, 1001, 999])
        let y = Ops.softmax(a).values
        XCTAssertFalse(y.contains { $0.isNaN })
        XCTAssertEqual(y.reduce(0, +), 1, accuracy: 1e-6)
        XCTAssertGreaterThan(y[1], y[0])
    }

    func testScalarAndVector() {
        XCTAssertEqual(Ops.softmax(TestData.tensor([], [5])).values, [1])
        XCTAssertEqual(Ops.softmax(TestData.tensor([3], [1, 1, 1]), causal: true).values.reduce(0, +), 1, accuracy: 1e-6)
    }

    func testLargeParallelMatchesNaive() {
        let a = TestData.randn([8, 64, 200], seed: 6, std: 2, requiresGrad: false)
        let yv = Ops.softmax(a, causal: true).values, av = a.values
        for r in stride(from: 0, to: 8 * 64, by: 37) {
            let i = r % 64
            assertClose(Array(yv[(r * 200)..<(r * 200 + 200)]),
                        naiveRow(Array(av[(r * 200)..<(r * 200 + 200)]), allowed: i + 200 - 64 + 1), tol: 1e-6)
        }
    }

    func testGradients() {
        GradCheck.check([TestData.randn([3, 6], seed: 7)], "softmax") { Ops.softmax($0[0]) }
        GradCheck.check([TestData.randn([2, 4, 4], seed: 8)], "causal square") { Ops.softmax($0[0], causal: true) }
        GradCheck.check([TestData.randn([2, 3, 5], seed: 9)], "causal rows < cols") { Ops.softmax($0[0], causal: true) }
        GradCheck.check([TestData.randn([5, 3], seed: 10)], "causal rows > cols") { Ops.softmax($0[0], causal: true) }
    }

    func testGradientThroughMaskedFillMinusInfinity() {
        let mask = Ops.causalMask(rows: 4, cols: 6, window: 3)
        GradCheck.check([TestData.randn([2, 4, 6], seed: 11)], "maskedFill(-inf) → softmax") {
            Ops.softmax(try Ops.maskedFill($0[0], mask: mask, value: -.infinity))
        }
        // A fully masked row: zero output, zero gradient, no NaN.
        let a = TestData.randn([2, 3], seed: 12)
        let m = TestData.tensor([2, 1], [0, 1])
        GradCheck.check([a], "fully masked row") { Ops.softmax(try Ops.maskedFill($0[0], mask: m, value: -.infinity)) }
        let y = try? Ops.softmax(Ops.maskedFill(a, mask: m, value: -.infinity))
        XCTAssertEqual(Array(y!.values[0..<3]), [0, 0, 0])
    }
}
