import AutoGLMCore
import XCTest

final class ReductionTests: XCTestCase {
    func testSumOfSquaresMatchesDouble() {
        // Block edges (16 lanes, 1024-element blocks), a ragged tail, and a large sum.
        var rng = RandomGenerator(seed: 77)
        for n in [0, 1, 15, 16, 17, 1023, 1024, 1025, 100_003] {
            let x = (0..<n).map { _ in Float(rng.normal() * 3) }
            let want = x.reduce(0.0) { $0 + Double($1) * Double($1) }
            let got = x.withUnsafeBufferPointer { Kernels.sumOfSquares($0.baseAddress ?? UnsafePointer(bitPattern: 16)!, n) }
            XCTAssertEqual(got, want, accuracy: 1e-6 * max(want, 1), "n \(n)")
        }
    }

    func testSumValuesAndShapes() throws {
        let a = TestData.tensor([2, 3], [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try Ops.sum(a, dim: 0, keepDim: false).values, [5, 7, 9])
        XCTAssertEqual(try Ops.sum(a, dim: 0, keepDim: false).shape, [3])
        XCTAssertEqual(try Ops.sum(a, dim: -1, keepDim: true).values, [6, 15])
        XCTAssertEqual(try Ops.sum(a, dim: 1, keepDim: true).shape, [2, 1])
        XCTAssertEqual(try Ops.sum(TestData.tensor([3], [1, 2, 3]), dim: 0, keepDim: false).shape, [])
        XCTAssertEqual(try Ops.sum(TestData.tensor([], [4]), dim: 0, keepDim: false).values, [4])
        let b = TestData.randn([2, 3, 4], seed: 1, requiresGrad: false)
        let s = try Ops.sum(b, dim: 1, keepDim: false).values, bv = b.values
        for i in 0..<2 {
            for k in 0..<4 {
                XCTAssertEqual(s[i * 4 + k], bv[i * 12 + k] + bv[i * 12 + 4 + k] + bv[i * 12 + 8 + k], accuracy: 1e-6)
            }
        }
    }

    func testMeanAndSumAll() throws {
        let a = TestData.tensor([2, 2], [1, 2, 3, 4])
        XCTAssertEqual(Ops.mean(a).shape, [])
        XCTAssertEqual(Ops.mean(a).item, 2.5)
        XCTAssertEqual(Ops.sumAll(a).item, 10)
        XCTAssertEqual(Ops.sumAll(a).shape, [])
        XCTAssertTrue(Ops.mean(Tensor(zeros: [0])).item.isNaN)
        // Many elements: accurate (Double accumulation).
        let big = Tensor(zeros: [1_000_001])
        for i in 0..<big.count { big.data[i] = 0.1 }
        XCTAssertEqual(Ops.sumAll(big).item, 100_000.1, accuracy: 0.01)
        XCTAssertEqual(Ops.mean(big).item, 0.1, accuracy: 1e-7)
    }

    func testCumsumValues() throws {
        let a = TestData.tensor([2, 3], [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try Ops.cumsum(a, dim: 1).values, [1, 3, 6, 4, 9, 15])
        XCTAssertEqual(try Ops.cumsum(a, dim: -2).values, [1, 2, 3, 5, 7, 9])
        XCTAssertEqual(try Ops.cumsum(TestData.tensor([], [2]), dim: 0).values, [2])
    }

    func testGradients() {
        let a = TestData.randn([2, 3, 4], seed: 2)
        for d in [0, 1, 2, -1] {
            for keep in [false, true] {
                GradCheck.check([a], "sum dim \(d) keep \(keep)") { try Ops.sum($0[0], dim: d, keepDim: keep) }
            }
            GradCheck.check([a], "cumsum dim \(d)") { try Ops.cumsum($0[0], dim: d) }
        }
        GradCheck.check([a], "mean") { Ops.mean($0[0]) }
        GradCheck.check([a], "sumAll") { Ops.sumAll($0[0]) }
        GradCheck.check([TestData.randn([], seed: 3)], "sum scalar") { try Ops.sum($0[0], dim: 0, keepDim: false) }
    }

    func testErrors() {
        let a = Tensor(zeros: [2, 3])
        assertThrowsTensorError("sum: dim 2 out of range for a 2-D tensor") { try Ops.sum(a, dim: 2, keepDim: false) }
        assertThrowsTensorError("sum: dim -3 out of range for a 2-D tensor") { try Ops.sum(a, dim: -3, keepDim: true) }
        assertThrowsTensorError("cumsum: dim 5 out of range for a 2-D tensor") { try Ops.cumsum(a, dim: 5) }
        assertThrowsTensorError("cumsum: dim 1 out of range for a 0-D tensor") { try Ops.cumsum(Tensor(zeros: []), dim: 1) }
    }
}
