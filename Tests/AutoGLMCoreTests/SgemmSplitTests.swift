import AutoGLMCore
import XCTest

/// `Kernels.sgemm` splits large products into row or column panels, one single-threaded BLAS
/// call per worker; every panel must land exactly where one whole call would put it.
final class SgemmSplitTests: XCTestCase {
    /// C = alpha·op(A)·op(B) + beta·C in Double, on row-major matrices with leading dimensions.
    private func reference(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: [Float], lda: Int,
                           b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let x = transA ? a[p * lda + i] : a[i * lda + p]
                    let y = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(x) * Double(y)
                }
                out[i * ldc + j] = Float(Double(alpha) * s + (beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])))
            }
        }
        return out
    }

    /// How a call starts from C: beta 0 (C not read), beta 1, beta 0.5, or a residual copied in.
    private enum Start: CaseIterable { case zero, one, half, residual }

    func testPanelsMatchOneCall() {
        let before = Kernels.threads
        Kernels.setThreads(3)   // three panels: uneven splits and a short last panel
        defer { Kernels.setThreads(before) }
        var rng = RandomGenerator(seed: 21)
        // (m, n, k): tall (row panels), wide (column panels), below the split threshold, and
        // an empty inner dimension (the product is zero; C is only scaled or replaced).
        for (m, n, k) in [(203, 77, 300), (40, 517, 300), (9, 11, 13), (5, 7, 0)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    for start in Start.allCases {
                        // Leading dimensions wider than the matrices, as for views of larger buffers.
                        let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 5, ldc = n + 2
                        let a = (0..<((transA ? k : m) * lda)).map { _ in Float(rng.normal()) }
                        let b = (0..<((transB ? n : k) * ldb)).map { _ in Float(rng.normal()) }
                        // beta 0 and a residual must ignore C entirely, NaNs included.
                        let ignoresC = start == .zero || start == .residual
                        let c = (0..<(m * ldc)).map { _ in ignoresC ? Float.nan : Float(rng.normal()) }
                        let s = (0..<(m * ldc)).map { _ in Float(rng.normal()) }
                        let beta: Float = [Start.zero: 0, .one: 1, .half: 0.5, .residual: 1][start]!
                        var got = c
                        a.withUnsafeBufferPointer { pa in
                            b.withUnsafeBufferPointer { pb in
                                got.withUnsafeMutableBufferPointer { pc in
                                    if start == .residual {
                                        Kernels.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5,
                                                      a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                                                      adding: s, c: pc.baseAddress!, ldc: ldc)
                                    } else {
                                        Kernels.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5,
                                                      a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                                                      beta: beta, c: pc.baseAddress!, ldc: ldc)
                                    }
                                }
                            }
                        }
                        let want = reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda,
                                             b: b, ldb: ldb, beta: beta, c: start == .residual ? s : c, ldc: ldc)
                        for i in 0..<m {
                            for j in 0..<ldc {
                                let idx = i * ldc + j
                                if j >= n {   // padding columns are never written
                                    XCTAssertEqual(got[idx].bitPattern, c[idx].bitPattern, "padding touched at \(i),\(j)")
                                    continue
                                }
                                XCTAssertEqual(got[idx], want[idx], accuracy: 1e-4 * Float(max(k, 1)).squareRoot(),
                                               "m\(m) n\(n) k\(k) tA \(transA) tB \(transB) \(start) at \(i),\(j)")
                            }
                        }
                    }
                }
            }
        }
    }
}
