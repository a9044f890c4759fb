import CBLAS
import CKernels
import Foundation

/// Low-level float32 kernels on raw pointers, shared by the ops and the host API.
///
/// Threading: every parallel kernel, GEMMs included, runs on one pool (`ck_pool_run`: the
/// caller plus `threads - 1` workers that spin briefly between regions), with at most `threads`
/// tasks per region. OpenBLAS itself is kept single-threaded: its own thread pool would
/// compete with the host's workers for the same cores, and its workers either spin between
/// calls (stealing the cores from the element kernels) or sleep (and pay a wake-up on every
/// GEMM of a training step). Large GEMMs are split into row or column panels instead, one
/// single-threaded `cblas_sgemm` per worker.
public enum Kernels {
    /// dst[i] += src[i].
    @inlinable public static func addInPlace(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
        for i in 0..<n { dst[i] += src[i] }
    }

    /// Cores available to the process, read once (Foundation reads cgroup files to answer, which
    /// costs microseconds: far too much to ask on every kernel call).
    public static let coreCount = max(ProcessInfo.processInfo.activeProcessorCount, 1)

    /// Workers the parallel kernels use (default: every core); see `setThreads`. Set it between
    /// steps, not while kernels run.
    nonisolated(unsafe) public private(set) static var threads = coreCount

    /// Sets the number of workers of the parallel kernels and GEMMs (at least 1; more than the
    /// cores is allowed but only oversubscribes them).
    public static func setThreads(_ n: Int) {
        threads = max(n, 1)
    }

    /// Makes OpenBLAS single-threaded, once, before its first GEMM (see the type's comment).
    @usableFromInline static let singleThreadedBLAS: Void = openblas_set_num_threads(1)

    /// Multiply-adds below which a GEMM runs on one thread (OpenBLAS's own threshold, 4·2^16).
    @usableFromInline static let gemmSplitThreshold = 262_144

    /// C = alpha * op(A) * op(B) + beta * C, row-major (cblas_sgemm), split over the workers
    /// when large: into row panels of C when m >= n, else column panels (multiples of 16, the
    /// micro-kernel width, so each panel runs whole blocks). Safe to call from inside a
    /// `parallelFor` body (the split then runs inline).
    @inlinable public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        _ = singleThreadedBLAS
        let ta = transA ? CblasTrans : CblasNoTrans, tb = transB ? CblasTrans : CblasNoTrans
        let work = m * n * k
        let parts = min(threads, work / gemmSplitThreshold, max(m, n) / 16)
        if parts <= 1 {
            cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                        beta, c, Int32(ldc))
            return
        }
        let splitRows = m >= n
        let extent = splitRows ? m : n
        let panel = ((extent + parts - 1) / parts + 15) / 16 * 16
        runTasks(parts) { p in
            let lo = p * panel, hi = min(extent, lo + panel)
            guard lo < hi else { return }
            if splitRows {
                // Rows lo..<hi of C come from rows lo..<hi of op(A).
                let pa = transA ? a + lo : a + lo * lda
                cblas_sgemm(CblasRowMajor, ta, tb, Int32(hi - lo), Int32(n), Int32(k), alpha, pa, Int32(lda), b, Int32(ldb),
                            beta, c + lo * ldc, Int32(ldc))
            } else {
                // Columns lo..<hi of C come from columns lo..<hi of op(B).
                let pb = transB ? b + lo * ldb : b + lo
                cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(hi - lo), Int32(k), alpha, a, Int32(lda), pb, Int32(ldb),
                            beta, c + lo, Int32(ldc))
            }
        }
    }

    /// Runs `body` over 0..<n split into at most `threads` chunks when the work is large enough
    /// to pay for the threads (`n >= minChunk * 2`), else inline. The chunks run on the host's
    /// worker pool (`ck_pool_run`); called from inside a chunk, the inner loop runs inline.
    @inlinable public static func parallelFor(_ n: Int, minChunk: Int, _ body: (Range<Int>) -> Void) {
        let workers = min(threads, n / max(minChunk, 1))
        if workers <= 1 { body(0..<n); return }
        let chunk = (n + workers - 1) / workers
        runTasks(workers) { w in
            let lo = w * chunk, hi = min(n, lo + chunk)
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Runs `task(0..<count)` on the worker pool and returns when all have finished.
    @inlinable public static func runTasks(_ count: Int, _ task: (Int) -> Void) {
        withoutActuallyEscaping(task) { task in
            var body = task
            withUnsafeMutablePointer(to: &body) { pointer in
                ck_pool_run(Int64(count), Int32(threads), { context, index in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(index))
                }, pointer)
            }
        }
    }
}
