import CBLAS
import Foundation

/// Low-level float32 kernels on raw pointers, shared by the ops and the host API.
public enum Kernels {
    /// dst[i] += src[i].
    @inlinable public static func addInPlace(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
        for i in 0..<n { dst[i] += src[i] }
    }

    /// C = alpha * op(A) * op(B) + beta * C, row-major (cblas_sgemm).
    @inlinable public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Cores available to the process, read once (Foundation reads cgroup files to answer, which
    /// costs microseconds: far too much to ask on every kernel call).
    public static let coreCount = max(ProcessInfo.processInfo.activeProcessorCount, 1)

    /// Runs `body` over 0..<n split into at most `coreCount` chunks when the work is large enough
    /// to pay for the threads (`n >= minChunk * 2`), else inline.
    @inlinable public static func parallelFor(_ n: Int, minChunk: Int, _ body: (Range<Int>) -> Void) {
        let workers = min(coreCount, n / max(minChunk, 1))
        if workers <= 1 { body(0..<n); return }
        let chunk = (n + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let lo = w * chunk, hi = min(n, lo + chunk)
            if lo < hi { body(lo..<hi) }
        }
    }
}
