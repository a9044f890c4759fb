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

    func testPanelsMatchOneCall() {
        let before = Kernels.threads
        Kernels.setThreads(3)   // three panels: uneven splits and a short last panel
        defer { Kernels.setThreads(before) }
        var rng = RandomGenerator(seed: 21)
        // (m, n, k): tall (row panels), wide (column panels), and one below the split threshold.
        for (m, n, k) in [(203, 77, 300), (40, 517, 300), (9, 11, 13)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    for beta: Float in [0, 1] {
                        // Leading dimensions wider than the matrices, as for views of larger buffers.
                        let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 5, ldc = n + 2
                        let a = (0..<((transA ? k : m) * lda)).map { _ in Float(rng.normal()) }
                        let b = (0..<((transB ? n : k) * ldb)).map { _ in Float(rng.normal()) }
                        // beta 0 must ignore C entirely, NaNs included.
                        let c = (0..<(m * ldc)).map { _ in beta == 0 ? Float.nan : Float(rng.normal()) }
                        var got = c
                        a.withUnsafeBufferPointer { pa in
                            b.withUnsafeBufferPointer { pb in
                                got.withUnsafeMutableBufferPointer { pc in
                                    Kernels.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5,
                                                  a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                                                  beta: beta, c: pc.baseAddress!, ldc: ldc)
                                }
                            }
                        }
                        let want = reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda,
                                             b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
                        for i in 0..<m {
                            for j in 0..<ldc {
                                let idx = i * ldc + j
                                if j >= n {   // padding columns are never written
                                    XCTAssertEqual(got[idx].bitPattern, c[idx].bitPattern, "padding touched at \(i),\(j)")
                                    continue
                                }
                                XCTAssertEqual(got[idx], want[idx], accuracy: 1e-4 * Float(k).squareRoot(),
                                               "m\(m) n\(n) k\(k) tA \(transA) tB \(transB) beta \(beta) at \(i),\(j)")
                            }
                        }
                    }
                }
            }
        }
    }
}
