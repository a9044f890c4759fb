import AutoGLMCore
import Foundation
import XCTest

/// A tensor whose values are a random permutation of 0.1 · k - 0.1 · count / 2 (k < count) plus
/// `shift`: no two within 0.1 of each other (shift 0.05 keeps them 0.05 from another such
/// tensor's), so a finite difference of step 0.01 never crosses a kink of max or maximum.
func spacedValues(_ shape: [Int], seed: UInt64, shift: Float = 0) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    let count = shape.reduce(1, *)
    let values = (0..<count).shuffled(using: &rng).map { Float($0 - count / 2) * 0.1 + shift }
    return Tensor(shape: shape, values: values, requiresGrad: true)
}

/// The maximum of each slice along `dim` and its index (first maximal one, or first NaN), by
/// plain loops over an [outer, n, inner] view.
func referenceMax(_ a: Tensor, dim d: Int) -> (values: [Float], indices: [Int]) {
    let outer = a.shape[..<d].reduce(1, *), n = a.shape[d], inner = a.shape[(d + 1)...].reduce(1, *)
    let av = a.values
    var values: [Float] = [], indices: [Int] = []
    for o in 0..<outer {
        for i in 0..<inner {
            var k = 0
            for j in 0..<n {
                let v = av[(o * n + j) * inner + i], best = av[(o * n + k) * inner + i]
                if best.isNaN { break }
                if v.isNaN || v > best { k = j }
            }
            values.append(av[(o * n + k) * inner + i]); indices.append(k)
        }
    }
    return (values, indices)
}

final class MaxTests: XCTestCase {
    // MARK: max along a dimension

    func testMaxMatchesReference() throws {
        let a = TestData.randn([3, 4, 5], seed: 1, requiresGrad: false)
        for dim in [0, 1, 2, -1, -3] {
            let d = dim < 0 ? dim + 3 : dim
            let ref = referenceMax(a, dim: d)
            var kept = a.shape; kept[d] = 1
            var dropped = a.shape; dropped.remove(at: d)
            let m = try Ops.max(a, dim: dim, keepDim: false)
            XCTAssertEqual(m.shape, dropped)
            XCTAssertEqual(m.values, ref.values, "dim \(dim)")
            XCTAssertEqual(try Ops.max(a, dim: dim, keepDim: true).shape, kept)
        }
        XCTAssertEqual(try Ops.max(TestData.tensor([4], [1, -2, 7, 3]), dim: 0, keepDim: false).values, [7])
        XCTAssertEqual(try Ops.max(TestData.tensor([4], [1, -2, 7, 3]), dim: 0, keepDim: false).shape, [])
        XCTAssertEqual(try Ops.max(TestData.tensor([], [5]), dim: -1, keepDim: false).values, [5])
        XCTAssertEqual(try Ops.max(Tensor(zeros: [0, 3]), dim: 1, keepDim: false).shape, [0])
    }

    func testMaxGradientGoesToFirstMaximum() throws {
        // Ties along the last dim (contiguous slices) and along dim 0 (strided slices).
        let a = TestData.tensor([2, 4], [1, 3, 3, 2, 5, 5, 5, 5], requiresGrad: true)
        try Ops.max(a, dim: 1, keepDim: false).backward(seed: TestData.tensor([2], [2, -1]))
        XCTAssertEqual(a.grad!.values, [0, 2, 0, 0, -1, 0, 0, 0])
        let b = TestData.tensor([3, 2], [1, 7, 4, 7, 4, -1], requiresGrad: true)
        try Ops.max(b, dim: 0, keepDim: true).backward(seed: TestData.tensor([1, 2], [1, 1]))
        XCTAssertEqual(b.grad!.values, [0, 1, 1, 0, 0, 0])
        // All -inf: the maximum is -inf and index 0 gets the gradient.
        let c = TestData.tensor([2], [-.infinity, -.infinity], requiresGrad: true)
        try Ops.max(c, dim: 0, keepDim: false).backward(seed: TestData.tensor([], [1]))
        XCTAssertEqual(c.grad!.values, [1, 0])
    }

    func testMaxPropagatesNaN() throws {
        for (dim, shape, values, grad) in [
            (1, [2, 4], [1, .nan, 3, .nan, .nan, 9, 2, 1], [0, 1, 0, 0, 1, 0, 0, 0]),
            (0, [3, 2], [1, 7, .nan, 2, 5, .nan], [0, 0, 1, 0, 0, 1]),
        ] as [(Int, [Int], [Float], [Float])] {
            let a = TestData.tensor(shape, values, requiresGrad: true)
            let m = try Ops.max(a, dim: dim, keepDim: false)
            XCTAssertTrue(m.values.allSatisfy(\.isNaN), "\(m.values)")
            try m.backward(seed: Tensor(shape: m.shape, values: [Float](repeating: 1, count: m.count)))
            XCTAssertEqual(a.grad!.values, grad, "dim \(dim)")
        }
    }

    func testMaxGradients() {
        let a = spacedValues([3, 4, 5], seed: 2)
        for dim in [0, 1, 2, -2] {
            for keep in [false, true] {
                GradCheck.check([a], "max dim \(dim) keep \(keep)") { try Ops.max($0[0], dim: dim, keepDim: keep) }
            }
        }
        GradCheck.check([TestData.randn([], seed: 3)], "max scalar") { try Ops.max($0[0], dim: 0, keepDim: false) }
        GradCheck.check([a], "max used twice") { try Ops.add(Ops.max($0[0], dim: 1, keepDim: true), $0[0]) }
    }

    func testLargeMaxMatchesReference() throws {
        // Large enough for the parallel kernels, both slice layouts, with the gradient's indices.
        let a = TestData.randn([301, 257], seed: 4)
        for dim in [0, 1] {
            a.grad = nil
            let ref = referenceMax(a, dim: dim)
            let m = try Ops.max(a, dim: dim, keepDim: false)
            XCTAssertEqual(m.values, ref.values, "dim \(dim)")
            try Ops.sumAll(m).backward()
            let g = a.grad!.values
            var want = [Float](repeating: 0, count: a.count)
            for (s, k) in ref.indices.enumerated() {
                want[dim == 1 ? s * 257 + k : k * 257 + s] = 1
            }
            XCTAssertEqual(g, want, "dim \(dim)")
        }
    }

    func testMaxErrors() {
        let a = Tensor(zeros: [2, 3])
        assertThrowsTensorError("max: dim 2 out of range for a 2-D tensor") { try Ops.max(a, dim: 2, keepDim: false) }
        assertThrowsTensorError("max: dim -3 out of range for a 2-D tensor") { try Ops.max(a, dim: -3, keepDim: false) }
        assertThrowsTensorError("max: dim 1 out of range for a 0-D tensor") { try Ops.max(Tensor(zeros: []), dim: 1, keepDim: true) }
        assertThrowsTensorError("max: dim -1 of [2, 0] is empty: no maximum to take") {
            try Ops.max(Tensor(zeros: [2, 0]), dim: -1, keepDim: false)
        }
    }

    // MARK: elementwise maximum

    func testMaximumMatchesNaiveBroadcasting() throws {
        for (i, (sa, sb)) in [([2, 3, 4], [2, 3, 4]), ([2, 3, 4], [4]), ([3, 1], [2, 1, 4]), ([], [2, 3]), ([2, 3], [2, 1])].enumerated() {
            let a = TestData.randn(sa, seed: UInt64(10 + i), requiresGrad: false)
            let b = TestData.randn(sb, seed: UInt64(20 + i), requiresGrad: false)
            let out = try Ops.maximum(a, b)
            let ref = naiveBroadcast(a, b) { Swift.max($0, $1) }
            XCTAssertEqual(out.shape, ref.shape)
            XCTAssertEqual(out.values, ref.values, "\(sa) \(sb)")
        }
    }

    func testMaximumTiesAndNaN() throws {
        // Ties go to a; where either is NaN the value is NaN and b gets the gradient.
        let a = TestData.tensor([5], [1, 2, 3, .nan, 4], requiresGrad: true)
        let b = TestData.tensor([5], [1, 5, 0, 2, .nan], requiresGrad: true)
        let m = try Ops.maximum(a, b)
        XCTAssertEqual(Array(m.values[0..<3]), [1, 5, 3])
        XCTAssertTrue(m.values[3].isNaN && m.values[4].isNaN)
        try m.backward(seed: TestData.tensor([5], [10, 20, 30, 40, 50]))
        XCTAssertEqual(a.grad!.values, [10, 0, 30, 0, 0])
        XCTAssertEqual(b.grad!.values, [0, 20, 0, 40, 50])
        // A broadcast b collects the gradient of every element it was chosen for (ties to a).
        let c = TestData.tensor([2, 3], [0, 5, 2, 9, 1, 2], requiresGrad: true)
        let d = TestData.tensor([3], [1, 3, 2], requiresGrad: true)
        try Ops.maximum(c, d).backward(seed: TestData.tensor([2, 3], [1, 2, 3, 4, 5, 6]))
        XCTAssertEqual(c.grad!.values, [0, 2, 3, 4, 0, 6])
        XCTAssertEqual(d.grad!.values, [1, 5, 0])
    }

    func testMaximumGradients() {
        // a on odd multiples of 0.05, b on multiples of 0.1: never within the step of each other.
        for (i, (sa, sb)) in [([3, 4], [3, 4]), ([2, 3, 4], [4]), ([4], [3, 4]), ([2, 1, 3], [4, 1]), ([], [2, 3])].enumerated() {
            let a = spacedValues(sa, seed: UInt64(30 + i), shift: 0.05), b = spacedValues(sb, seed: UInt64(40 + i))
            GradCheck.check([a, b], "maximum \(sa) \(sb)") { try Ops.maximum($0[0], $0[1]) }
        }
    }

    func testMaximumErrors() {
        assertThrowsTensorError("maximum: shapes [2, 3] and [4] cannot be broadcast") {
            try Ops.maximum(Tensor(zeros: [2, 3]), Tensor(zeros: [4]))
        }
    }
}
