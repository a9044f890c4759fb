import AutoGLMCore
import CKernels
import XCTest

/// bfloat16 rounding, and the bf16 GEMMs of `train.precision: bf16` on every kernel path this
/// CPU runs: the native one (`vdpbf16ps`, AVX512-BF16) and the fallback that rounds the operands
/// and runs the float32 GEMM (forced through the pool's path, as `run.isa` does).
final class BFloat16Tests: XCTestCase {
    /// bfloat16's unit roundoff: 8 significant bits, round to nearest.
    static let u = 0x1p-8
    /// float32's.
    static let u32 = 0x1p-24

    /// x rounded to 8 significant bits (nearest, ties to even) in Double: the reference for
    /// normal numbers.
    static func reference(_ x: Float) -> Float {
        guard x.isNormal else { return x.isNaN ? x : (x.isInfinite ? x : (x.sign == .minus ? -0.0 : 0.0)) }
        let ulp = Double(sign: .plus, exponent: Int(x.exponent) - 7, significand: 1)
        return Float((Double(x) / ulp).rounded(.toNearestOrEven) * ulp)
    }

    /// The kernel paths to test on this machine, with the pool set to each.
    static var paths: [KernelPath] { KernelPath.allCases.filter { $0 <= KernelPath.detected } }

    /// Runs `body` on a two-thread pool of `path`.
    static func on<T>(_ path: KernelPath, _ body: () throws -> T) rethrows -> T {
        let pool = WorkerPool(threads: 2)
        pool.path = path
        return try pool.run(body)
    }

    /// Special values and random ones, including exact ties and values that round up to infinity.
    static let samples: [Float] = {
        var rng = RandomGenerator(seed: 3)
        var v: [Float] = [0, -0.0, 1, -1, .infinity, -.infinity, .nan, -.nan, .greatestFiniteMagnitude,
                          -.greatestFiniteMagnitude, .leastNormalMagnitude, -.leastNormalMagnitude,
                          .leastNonzeroMagnitude, -.leastNonzeroMagnitude, Float(bitPattern: 0x0040_0000),
                          Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000), Float(bitPattern: 0x3F80_8001),
                          Float(bitPattern: 0x7F7F_8000), Float(bitPattern: 0xFF80_0001)]
        for _ in 0..<5000 { v.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        for _ in 0..<5000 { v.append(Float(rng.normal() * 3)) }
        return v
    }()

    func testPortableRoundingMatchesTheReferenceAndEveryPathAgrees() {
        let x = Self.samples
        var portable = [UInt16](repeating: 0, count: x.count)
        ck_bf16_from_float_portable(x, &portable, x.count)
        for (i, v) in x.enumerated() {
            let widened = Float(bitPattern: UInt32(portable[i]) << 16)
            if v.isNaN {
                XCTAssertTrue(widened.isNaN, "NaN \(v.bitPattern) must stay NaN")
                XCTAssertEqual(portable[i] & 0x40, 0x40, "NaN comes back quiet")
                XCTAssertEqual(portable[i] & 0x8000, v.sign == .minus ? 0x8000 : 0, "NaN keeps its sign")
            } else {
                XCTAssertEqual(widened.bitPattern, Self.reference(v).bitPattern, "bf16(\(v)) [\(v.bitPattern)]")
            }
        }
        // Every path's conversion and rounding give exactly the portable bits.
        for path in Self.paths {
            Self.on(path) {
                let buffer = x.withUnsafeBufferPointer { BFloat16Buffer(rounding: $0.baseAddress!, count: x.count) }
                let rounded = Tensor(shape: [x.count], values: x).roundedToBF16().values
                for i in 0..<x.count {
                    XCTAssertEqual(buffer.pointer[i], portable[i], "\(path.name): bf16(\(x[i]))")
                    XCTAssertEqual(rounded[i].bitPattern, UInt32(portable[i]) << 16 | (x[i].isNaN ? rounded[i].bitPattern & 0xFFFF : 0),
                                   "\(path.name): rounded \(x[i])")
                }
            }
        }
    }

    /// Each path's own float32 -> bfloat16 conversion (vectorised integer rounding, or
    /// vcvtne2ps2bf16) gives the portable bits at every length and start (vector bodies, masked
    /// or scalar tails) and writes nothing past the end.
    func testEveryPathsConversionMatchesThePortableOneAtEveryLengthAndStart() {
        let x = Self.samples
        var portable = [UInt16](repeating: 0, count: x.count)
        ck_bf16_from_float_portable(x, &portable, x.count)
        for path in Self.paths {
            let convert = ck_kernels_for(ck_isa(rawValue: UInt32(path.rawValue))).pointee.bf16_from_float!
            for start in 0..<5 {
                for length in 0..<100 {
                    var out = [UInt16](repeating: 0xA5A5, count: length + 1)
                    x.withUnsafeBufferPointer { convert($0.baseAddress! + start, &out, length) }
                    XCTAssertEqual(Array(out.prefix(length)), Array(portable[start..<(start + length)]),
                                   "\(path.name): \(length) values from \(start)")
                    XCTAssertEqual(out[length], 0xA5A5, "\(path.name): wrote past \(length) values")
                }
            }
        }
    }

    /// C = alpha·op(A)·op(B) + start in Double from the stored operands, rounded to bfloat16
    /// first when `rounded`; also Σ|a||b| per element (for the error bounds).
    private func reference(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: [Float], lda: Int,
                           b: [Float], ldb: Int, rounded: Bool) -> (value: [Double], magnitude: [Double]) {
        var value = [Double](repeating: 0, count: m * n), magnitude = value
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0, t = 0.0
                for p in 0..<k {
                    var x = transA ? a[p * lda + i] : a[i * lda + p]
                    var y = transB ? b[j * ldb + p] : b[p * ldb + j]
                    if rounded { x = Self.reference(x); y = Self.reference(y) }
                    s += Double(x) * Double(y)
                    t += abs(Double(x) * Double(y))
                }
                value[i * n + j] = Double(alpha) * s
                magnitude[i * n + j] = abs(Double(alpha)) * t
            }
        }
        return (value, magnitude)
    }

    /// The bf16 GEMM on `path` against both references: within float32 accumulation error of the
    /// exact product of the rounded operands (which a GEMM that did not round would miss), and
    /// within the bound bf16 implies of the exact float32 product: each product of two rounded
    /// operands is off by at most (2u + u²)|a||b|, plus k·u32 of accumulation.
    private func checkGEMM(on path: KernelPath) {
        var rng = RandomGenerator(seed: 8)
        // (m, n, k): row panels, column panels (strips of 32), odd depths (half-filled k
        // pairs), below the split threshold.
        for (m, n, k) in [(200, 70, 301), (33, 520, 64), (9, 45, 19), (64, 64, 256)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    for residual in [false, true] {
                        let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 1
                        let a = (0..<((transA ? k : m) * lda)).map { _ in Float(rng.normal()) }
                        let b = (0..<((transB ? n : k) * ldb)).map { _ in Float(rng.normal()) }
                        let s = (0..<(m * n)).map { _ in Float(rng.normal()) }
                        var c = [Float](repeating: .nan, count: m * n)
                        Self.on(path) {
                            a.withUnsafeBufferPointer { pa in
                                b.withUnsafeBufferPointer { pb in
                                    c.withUnsafeMutableBufferPointer { pc in
                                        if residual {
                                            Kernels.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5,
                                                          a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                                                          adding: s, c: pc.baseAddress!, ldc: n, precision: .bf16)
                                        } else {
                                            Kernels.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5,
                                                          a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                                                          beta: 0, c: pc.baseAddress!, ldc: n, precision: .bf16)
                                        }
                                    }
                                }
                            }
                        }
                        let exact = reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda,
                                              b: b, ldb: ldb, rounded: false)
                        let bf = reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda,
                                           b: b, ldb: ldb, rounded: true)
                        let accumulation = Double(k + 2) * Self.u32, rounding = 2 * Self.u + Self.u * Self.u
                        var worstRounded = 0.0
                        for i in 0..<(m * n) {
                            let start = residual ? Double(s[i]) : 0
                            let got = Double(c[i]) - start
                            let slack = Self.u32 * abs(Double(c[i])) * 2   // the start's add, and the final rounding
                            XCTAssertLessThanOrEqual(abs(got - bf.value[i]), accumulation * bf.magnitude[i] + slack,
                                                     "\(path.name) \(m)x\(n)x\(k) tA \(transA) tB \(transB): [\(i)] vs rounded operands")
                            XCTAssertLessThanOrEqual(abs(got - exact.value[i]),
                                                     (rounding + accumulation) * exact.magnitude[i] + slack,
                                                     "\(path.name) \(m)x\(n)x\(k): [\(i)] vs float32 operands")
                            worstRounded = max(worstRounded, abs(got - exact.value[i]) / max(exact.magnitude[i], 1e-30))
                        }
                        // The operands really were rounded: float32 products would be ~1e-7 off.
                        XCTAssertGreaterThan(worstRounded, Self.u / 64, "\(path.name): no bfloat16 rounding visible")
                    }
                }
            }
        }
    }

    func testBF16GEMMOnTheNativePath() throws {
        guard KernelPath.detected == .avx512BF16 else {
            throw XCTSkip("this CPU lacks AVX512-BF16 (runs up to \(KernelPath.detected.name)): the vdpbf16ps GEMM cannot run here")
        }
        checkGEMM(on: .avx512BF16)
    }

    func testBF16GEMMOnEveryFallbackPath() {
        for path in Self.paths where path < .avx512BF16 { checkGEMM(on: path) }
    }

    /// The fallback's bf16 GEMM is, bit for bit, the float32 GEMM of operands rounded
    /// beforehand: its rounded copies (borrowed scratch, whatever idle buffer the pool lends)
    /// change where the values are, never what is multiplied.
    func testTheFallbackGEMMIsTheFloat32GEMMOfTheRoundedOperands() {
        var rng = RandomGenerator(seed: 21)
        for path in Self.paths where path < .avx512BF16 {
            for (m, n, k) in [(300, 90, 200), (40, 400, 96), (7, 5, 3)] {
                // a [m, k] · b [n, k]ᵀ, as a linear layer's forward
                let a = (0..<(m * k)).map { _ in Float(rng.normal()) }, b = (0..<(n * k)).map { _ in Float(rng.normal()) }
                let ra = Tensor(shape: [m * k], values: a).roundedToBF16().values
                let rb = Tensor(shape: [n * k], values: b).roundedToBF16().values
                // freed at once: idle buffers of other sizes that the rounded copies may borrow
                _ = [Tensor(zeros: [m * k + n * k + 4096]), Tensor(zeros: [9000])]
                func product(_ a: [Float], _ b: [Float], _ precision: Precision) -> [UInt32] {
                    var c = [Float](repeating: .nan, count: m * n)
                    Self.on(path) {
                        Kernels.sgemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: k,
                                      beta: 0, c: &c, ldc: n, precision: precision)
                    }
                    return c.map(\.bitPattern)
                }
                XCTAssertEqual(product(a, b, .bf16), product(ra, rb, .fp32), "\(path.name) \(m)x\(n)x\(k)")
                XCTAssertNotEqual(product(a, b, .bf16), product(a, b, .fp32), "\(path.name): nothing was rounded")
            }
        }
    }

    /// `Ops.linear` under `Autocast.with(.bf16)`: y, dx and dW are the products of the rounded
    /// x, W and dy (float32 accumulation), the residual is added in float32, on every path.
    func testLinearForwardAndBackwardRoundTheirOperands() throws {
        var rng = RandomGenerator(seed: 4)
        let rows = 50, inF = 70, outF = 40
        let xv = (0..<(rows * inF)).map { _ in Float(rng.normal()) }
        let wv = (0..<(outF * inF)).map { _ in Float(rng.normal() * 0.1) }
        let gv = (0..<(rows * outF)).map { _ in Float(rng.normal()) }
        let r = Self.reference
        for path in Self.paths {
            try Self.on(path) {
                let x = Tensor(shape: [rows, inF], values: xv, requiresGrad: true)
                let w = Tensor(shape: [outF, inF], values: wv, requiresGrad: true)
                let y = try Autocast.with(.bf16) { try Ops.linear(x, w) }
                try Autocast.with(.bf16) { try y.backward(seed: Tensor(shape: [rows, outF], values: gv)) }
                func check(_ got: [Float], _ expected: (Int) -> (Double, Double), _ what: String) {
                    for i in 0..<got.count {
                        let (value, magnitude) = expected(i)
                        XCTAssertEqual(Double(got[i]), value, accuracy: Double(max(inF, rows) + 2) * Self.u32 * magnitude + 1e-30,
                                       "\(path.name) \(what)[\(i)]")
                    }
                }
                check(y.values, { i in
                    let (row, o) = (i / outF, i % outF)
                    let terms = (0..<inF).map { Double(r(xv[row * inF + $0])) * Double(r(wv[o * inF + $0])) }
                    return (terms.reduce(0, +), terms.map(abs).reduce(0, +))
                }, "y")
                check(x.grad!.values, { i in
                    let (row, c) = (i / inF, i % inF)
                    let terms = (0..<outF).map { Double(r(gv[row * outF + $0])) * Double(r(wv[$0 * inF + c])) }
                    return (terms.reduce(0, +), terms.map(abs).reduce(0, +))
                }, "dx")
                check(w.grad!.values, { i in
                    let (o, c) = (i / inF, i % inF)
                    let terms = (0..<rows).map { Double(r(gv[$0 * outF + o])) * Double(r(xv[$0 * inF + c])) }
                    return (terms.reduce(0, +), terms.map(abs).reduce(0, +))
                }, "dW")
            }
        }
    }

    func testFP32IsTheDefaultAndAutocastRestoresIt() {
        XCTAssertEqual(Autocast.precision, .fp32)
        Autocast.with(.bf16) {
            XCTAssertEqual(Autocast.precision, .bf16)
            Autocast.with(.fp32) { XCTAssertEqual(Autocast.precision, .fp32) }
            XCTAssertEqual(Autocast.precision, .bf16)
        }
        XCTAssertEqual(Autocast.precision, .fp32)
    }
}
