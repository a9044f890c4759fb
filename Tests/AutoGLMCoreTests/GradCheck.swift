import AutoGLMCore
import XCTest

/// Shared helpers for the op tests: random tensors, approximate comparisons and a finite-difference
/// gradient checker.
enum TestData {
    /// A tensor of N(0, std²) values from a fixed seed.
    static func randn(_ shape: [Int], seed: UInt64, std: Float = 1, requiresGrad: Bool = true) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return Tensor.randn(shape, std: std, rng: &rng, requiresGrad: requiresGrad)
    }

    /// A tensor of uniform values in [lo, hi) from a fixed seed.
    static func uniform(_ shape: [Int], seed: UInt64, _ lo: Float, _ hi: Float, requiresGrad: Bool = true) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        let t = Tensor(zeros: shape, requiresGrad: requiresGrad)
        for i in 0..<t.count { t.data[i] = lo + (hi - lo) * Float(rng.uniform()) }
        return t
    }

    /// A tensor with the given values.
    static func tensor(_ shape: [Int], _ values: [Float], requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, values: values, requiresGrad: requiresGrad)
    }
}

/// Asserts two float arrays match within `tol` (absolute + relative).
func assertClose(_ actual: [Float], _ expected: [Float], tol: Float = 1e-5,
                 _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "count mismatch \(message)", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        if a.isNaN || e.isNaN || a.isInfinite || e.isInfinite {
            XCTAssertTrue(a == e || (a.isNaN && e.isNaN), "[\(i)] \(a) vs \(e) \(message)", file: file, line: line)
            continue
        }
        if abs(a - e) > tol * (1 + abs(e)) {
            XCTFail("[\(i)] \(a) vs expected \(e) \(message)", file: file, line: line)
            return
        }
    }
}

/// Asserts that `body` throws a `TensorError` whose message equals `message` (or contains it
/// when `contains` is set).
func assertThrowsTensorError<T>(_ message: String, contains: Bool = false,
                                file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected TensorError \"\(message)\", nothing thrown", file: file, line: line)
    } catch let error as TensorError {
        if contains {
            XCTAssertTrue(error.message.contains(message), "\"\(error.message)\" lacks \"\(message)\"", file: file, line: line)
        } else {
            XCTAssertEqual(error.message, message, file: file, line: line)
        }
    } catch {
        XCTFail("expected TensorError, got \(error)", file: file, line: line)
    }
}

/// Finite-difference gradient checking.
enum GradCheck {
    /// One gradient entry that disagreed.
    struct Mismatch: CustomStringConvertible {
        let input: Int, index: Int
        let analytic: Double, numeric: Double
        /// True when a second backward pass did not add exactly its gradient to the first.
        var accumulation = false
        var description: String {
            accumulation
                ? "input \(input) [\(index)]: after two backward passes \(analytic), expected \(numeric)"
                : "input \(input) [\(index)]: analytic \(analytic) vs numeric \(numeric)"
        }
    }

    /// Compares the analytic gradients of L = Σ f(inputs) ⊙ R (R a fixed random tensor) with
    /// central differences, for every input with `requiresGrad`. The perturbed losses are summed
    /// in Double. Returns the mismatches (|a - n| > atol + rtol · max(|a|, |n|)).
    static func mismatches(_ inputs: [Tensor], eps: Float = 1e-2, rtol: Double = 2e-2, atol: Double = 1e-3,
                           seed: UInt64 = 99, _ f: ([Tensor]) throws -> Tensor) throws -> [Mismatch] {
        for t in inputs { t.grad = nil }
        let y = try f(inputs)
        let r = TestData.randn(y.shape, seed: seed, requiresGrad: false)
        let loss = Ops.sumAll(try Ops.mul(y, r))
        try loss.backward()
        let analytic = inputs.map { t in t.grad?.values ?? [Float](repeating: 0, count: t.count) }
        var bad: [Mismatch] = []
        // A second pass must accumulate: every gradient doubles (exercises the += paths, the
        // first pass having written into fresh buffers).
        try Ops.sumAll(try Ops.mul(try f(inputs), r)).backward()
        for (n, t) in inputs.enumerated() where t.requiresGrad {
            let twice = t.grad?.values ?? [Float](repeating: 0, count: t.count)
            for i in 0..<t.count {
                let expect = 2 * Double(analytic[n][i]), got = Double(twice[i])
                if !(abs(got - expect) <= 1e-5 * (1 + abs(expect))) {  // NaN fails too
                    bad.append(Mismatch(input: n, index: i, analytic: got, numeric: expect, accumulation: true))
                }
            }
        }
        for t in inputs { t.grad = nil }
        let weights = r.values.map(Double.init)

        func lossValue() throws -> Double {
            let out = try Autograd.withNoGrad { try f(inputs) }
            var s = 0.0
            for (i, v) in out.values.enumerated() { s += Double(v) * weights[i] }
            return s
        }

        for (n, t) in inputs.enumerated() where t.requiresGrad {
            for i in 0..<t.count {
                let saved = t.data[i]
                t.data[i] = saved + eps
                let up = try lossValue()
                t.data[i] = saved - eps
                let down = try lossValue()
                t.data[i] = saved
                // The perturbation actually applied (float rounding of saved ± eps).
                let h = Double(saved + eps) - Double(saved - eps)
                let numeric = (up - down) / h
                let a = Double(analytic[n][i])
                if !(abs(a - numeric) <= atol + rtol * max(abs(a), abs(numeric))) {  // NaN fails too
                    bad.append(Mismatch(input: n, index: i, analytic: a, numeric: numeric))
                }
            }
        }
        return bad
    }

    /// Asserts that the analytic and numeric gradients of f agree (see `mismatches`).
    static func check(_ inputs: [Tensor], eps: Float = 1e-2, rtol: Double = 2e-2, atol: Double = 1e-3,
                      _ label: String = "", file: StaticString = #filePath, line: UInt = #line,
                      _ f: ([Tensor]) throws -> Tensor) {
        // Every buffer an op promises to overwrite starts as NaN, so a missed element fails.
        let poisoned = TensorStorage.poisonsUninitialized
        TensorStorage.poisonsUninitialized = true
        defer { TensorStorage.poisonsUninitialized = poisoned }
        do {
            XCTAssertTrue(inputs.contains { $0.requiresGrad }, "nothing to check", file: file, line: line)
            let bad = try mismatches(inputs, eps: eps, rtol: rtol, atol: atol, f)
            if !bad.isEmpty {
                XCTFail("\(label): \(bad.count) gradient mismatches, first: \(bad.prefix(4))", file: file, line: line)
            }
        } catch {
            XCTFail("\(label): threw \(error)", file: file, line: line)
        }
    }
}
