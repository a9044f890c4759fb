import AutoGLMCore
import Foundation
import XCTest

/// The rotate-half RoPE of GPT-NeoX / Hugging Face LLaMA in float64, straight from the formula:
/// for row t (position t + offset) and i < h = D / 2, θ_i = base^(-2i / D), a = (t + offset) · θ_i,
/// out[i] = x[i] cos a - x[i + h] sin a, out[i + h] = x[i + h] cos a + x[i] sin a.
func referenceRotary(_ x: Tensor, offset: Int, base: Double) -> [Double] {
    let t = x.shape[x.ndim - 2], d = x.shape[x.ndim - 1], h = d / 2
    let xv = x.values.map(Double.init)
    var out = [Double](repeating: 0, count: x.count)
    for r in 0..<(x.count / d) {
        let p = Double(r % t + offset)
        for i in 0..<h {
            let a = p * Foundation.pow(base, -2 * Double(i) / Double(d))
            let x1 = xv[r * d + i], x2 = xv[r * d + i + h]
            out[r * d + i] = x1 * Foundation.cos(a) - x2 * Foundation.sin(a)
            out[r * d + i + h] = x2 * Foundation.cos(a) + x1 * Foundation.sin(a)
        }
    }
    return out
}

final class RotaryTests: XCTestCase {
    /// Asserts rotary(x) is the float64 rotation to float rounding: within 3·2^-24 of the pair's
    /// |x1| + |x2| (table entries, two products and a sum, each rounded once).
    func assertMatchesReference(_ x: Tensor, offset: Int, base: Double,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let y = try Ops.rotary(x, positionOffset: offset, base: base)
        XCTAssertEqual(y.shape, x.shape, file: file, line: line)
        let ref = referenceRotary(x, offset: offset, base: base)
        let d = x.shape[x.ndim - 1], h = d / 2, xv = x.values, yv = y.values
        let bad = yv.indices.first { k in
            let r = k / d, i = k % h
            let scale = Double(abs(xv[r * d + i]) + abs(xv[r * d + i + h]))
            return abs(Double(yv[k]) - ref[k]) > 3 * 0x1p-24 * scale
        }
        XCTAssertNil(bad.map { "\(x.shape) offset \(offset): [\($0)] \(yv[$0]) vs \(ref[$0])" }, file: file, line: line)
    }

    func testMatchesFloat64Reference() throws {
        for (i, (shape, offset, base)) in [
            ([4, 8], 0, 10_000.0),            // [T, D]
            ([3, 5, 16], 7, 10_000.0),        // [H, T, D], offset > 0
            ([2, 3, 1, 64], 4095, 10_000.0),  // decode step: T = 1 at a large position
            ([2, 2, 6, 2], 3, 500_000.0),     // D = 2, LLaMA-3's base
            ([1, 1, 5, 10], 100_000, 10.0),   // far positions, a small base
        ].enumerated() {
            try assertMatchesReference(TestData.randn(shape, seed: UInt64(i), requiresGrad: false), offset: offset, base: base)
        }
    }

    func testKnownValues() throws {
        // D = 2, base irrelevant (θ_0 = 1): row t is (1, 0) turned by t radians.
        let x = TestData.tensor([3, 2], [1, 0, 1, 0, 0, 1])
        let y = try Ops.rotary(x, positionOffset: 0, base: 10_000).values
        assertClose(y, [1, 0, Float(Foundation.cos(1.0)), Float(Foundation.sin(1.0)),
                        -Float(Foundation.sin(2.0)), Float(Foundation.cos(2.0))], tol: 1e-7)
        // Position 0 is the identity for any D.
        let z = TestData.randn([1, 6], seed: 9, requiresGrad: false)
        XCTAssertEqual(try Ops.rotary(z, positionOffset: 0, base: 10_000).values, z.values)
    }

    func testDecodeStepMatchesFullSequence() throws {
        // Row t of the whole sequence is the T = 1 call at offset t, bit for bit.
        let x = TestData.randn([2, 3, 9, 8], seed: 10, requiresGrad: false)
        let full = try Ops.rotary(x, positionOffset: 0, base: 10_000)
        for t in [0, 4, 8] {
            let row = try Ops.slice(x, dim: 2, start: t, length: 1)
            XCTAssertEqual(try Ops.rotary(row, positionOffset: t, base: 10_000).values,
                           try Ops.slice(full, dim: 2, start: t, length: 1).values, "t \(t)")
        }
    }

    func testLargeParallelMatchesReference() throws {
        // Enough rows for the parallel kernel, forward and backward; the backward is the inverse
        // rotation, so rotating back the forward's result restores x.
        let x = TestData.randn([4, 3, 64, 64], seed: 11)
        try assertMatchesReference(x, offset: 13, base: 10_000)
        let y = try Ops.rotary(x, positionOffset: 13, base: 10_000)
        try y.backward(seed: Tensor(shape: y.shape, values: y.values))
        assertClose(x.grad!.values, x.values, tol: 1e-6)
    }

    func testGradients() {
        GradCheck.check([TestData.randn([3, 4], seed: 12)], "rotary [T, D]") {
            try Ops.rotary($0[0], positionOffset: 0, base: 10_000)
        }
        GradCheck.check([TestData.randn([2, 2, 3, 8], seed: 13)], "rotary offset 5") {
            try Ops.rotary($0[0], positionOffset: 5, base: 100)
        }
        GradCheck.check([TestData.randn([2, 1, 6], seed: 14)], "rotary T = 1") {
            try Ops.rotary($0[0], positionOffset: 31, base: 10_000)
        }
        GradCheck.check([TestData.randn([2, 3, 4], seed: 15)], "rotary used twice") {
            try Ops.mul(Ops.rotary($0[0], positionOffset: 2, base: 10_000), $0[0])
        }
    }

    func testEmptyTensors() throws {
        let x = Tensor(zeros: [2, 0, 4], requiresGrad: true)
        XCTAssertEqual(try Ops.rotary(x, positionOffset: 3, base: 10_000).shape, [2, 0, 4])
        XCTAssertEqual(try Ops.rotary(Tensor(zeros: [3, 0]), positionOffset: 0, base: 10_000).shape, [3, 0])
    }

    func testErrors() {
        let x = Tensor(zeros: [2, 4])
        assertThrowsTensorError("rotary: x must be [..., T, D] (at least 2-D), got [4]") {
            try Ops.rotary(Tensor(zeros: [4]), positionOffset: 0, base: 10_000)
        }
        assertThrowsTensorError("rotary: the feature dim D of [2, 3, 5] must be even, got 5") {
            try Ops.rotary(Tensor(zeros: [2, 3, 5]), positionOffset: 0, base: 10_000)
        }
        assertThrowsTensorError("rotary: positionOffset must be >= 0, got -1") {
            try Ops.rotary(x, positionOffset: -1, base: 10_000)
        }
        assertThrowsTensorError("rotary: positionOffset \(Int.max) + T 2 overflows") {
            try Ops.rotary(x, positionOffset: .max, base: 10_000)
        }
        for base in [0, -2, Double.nan, .infinity] {
            assertThrowsTensorError("rotary: base must be a finite number > 0, got \(base)") {
                try Ops.rotary(x, positionOffset: 0, base: base)
            }
        }
    }
}
