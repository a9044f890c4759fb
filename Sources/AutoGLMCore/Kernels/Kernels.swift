import CBLAS
import CKernels
import Foundation

/// Low-level float32 kernels on raw pointers, shared by the ops and the host API.
///
/// Threading: every parallel kernel, GEMMs included, runs on the calling thread's worker pool
/// (`WorkerPool`: the caller plus `threads - 1` workers that spin briefly between regions), with
/// at most `threads` tasks per region. OpenBLAS itself is kept single-threaded: its own thread pool would
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

    /// Threads the parallel kernels on this thread use: those of the current `WorkerPool`
    /// (default: every core).
    @inlinable public static var threads: Int { Int(ck_pool_threads(WorkerPool.currentRaw)) }

    /// Sets the threads of the process-wide pool (`WorkerPool.shared`), used where no session's
    /// pool is current (at least 1; more than the cores only oversubscribes them). Set it
    /// between steps, not while kernels run.
    public static func setThreads(_ n: Int) {
        WorkerPool.shared.threads = max(n, 1)
    }

    /// Multiply-adds below which a GEMM runs on one thread (OpenBLAS's own threshold, 4·2^16).
    static let gemmSplitThreshold = 262_144

    /// C = alpha * op(A) * op(B) + beta * C, row-major (cblas_sgemm), split over the workers
    /// when large: into row panels of C when m >= n, else column panels (multiples of 16, the
    /// micro-kernel width, so each panel runs whole blocks). With beta 0, C is not read (each
    /// panel is zero-filled by its own worker just before its GEMM: faster than OpenBLAS's
    /// separate zeroing pass). With `precision` bf16 the operands are rounded to bfloat16 (see
    /// `gemm`). Safe to call from inside a `parallelFor` body (the split then runs inline).
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                                        precision: Precision = .fp32) {
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
             start: beta == 0 ? .zero : .scaled(beta), c: c, ldc: ldc, precision: precision)
    }

    /// C = alpha * op(A) * op(B) + S, row-major, where S (same shape and leading dimension as
    /// C, may not alias it) is copied into C panel by panel just before each panel's GEMM: a
    /// residual add fused into the GEMM, with no pass of its own.
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                        adding s: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                                        precision: Precision = .fp32) {
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
             start: .copy(s), c: c, ldc: ldc, precision: precision)
    }

    /// What a GEMM adds its product to.
    enum GEMMStart {
        /// beta * C (C is read; `sgemm` turns beta 0 into `.zero`).
        case scaled(Float)
        /// Zero (C is not read).
        case zero
        /// A copy of this matrix (same leading dimension as C).
        case copy(UnsafePointer<Float>)
    }

    /// The GEMM behind both `sgemm`s: panels as described there, each prepared (zeroed or
    /// copied) by the worker that then multiplies into it. With `precision` bf16 both operands
    /// are rounded to bfloat16 and the products accumulate in float32 (the start, a residual
    /// or C itself, is not rounded): on the `avx512BF16` path by `vdpbf16ps`
    /// (`ck_bf16_gemm_panel`, op(B) packed once and shared by the panels), elsewhere by rounding
    /// copies of the operands (`bf16_round`) and running the float32 GEMM on them, which gives
    /// the same products of the same rounded values (the sums may round differently).
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                start: GEMMStart, c: UnsafeMutablePointer<Float>, ldc: Int,
                                precision: Precision = .fp32) {
        if m == 0 || n == 0 { return }
        if precision == .bf16 && k > 0 {
            if path == .avx512BF16 {
                bf16GEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
                         ldb: ldb, start: start, c: c, ldc: ldc)
            } else {
                // The stored spans of op(A) and op(B), rounded into scratch copies (borrowed idle
                // buffers: no rounded copy outlives the call or adds to the pool).
                let spanA = ((transA ? k : m) - 1) * lda + (transA ? m : k)
                let spanB = ((transB ? n : k) - 1) * ldb + (transB ? k : n)
                let ra = ScratchBuffer(count: spanA), rb = ScratchBuffer(count: spanB)
                roundToBF16(a, ra.pointer, spanA)
                roundToBF16(b, rb.pointer, spanB)
                gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ra.pointer, lda: lda,
                     b: rb.pointer, ldb: ldb, start: start, c: c, ldc: ldc)
                withExtendedLifetime((ra, rb)) {}
            }
            return
        }
        _ = prepareBLAS(for: KernelPath.preferred)
        let ta = transA ? CblasTrans : CblasNoTrans, tb = transB ? CblasTrans : CblasNoTrans
        splitPanels(m: m, n: n, k: k, columnMultiple: 16) { rows, cols in
            let pc = c + rows.lowerBound * ldc + cols.lowerBound
            let beta = prepare(start, rows, cols, c: c, ldc: ldc)
            if k == 0 {
                if beta != 1 { for r in 0..<rows.count { for j in 0..<cols.count { pc[r * ldc + j] *= beta } } }
                return
            }
            let pa = transA ? a + rows.lowerBound : a + rows.lowerBound * lda
            let pb = transB ? b + cols.lowerBound * ldb : b + cols.lowerBound
            cblas_sgemm(CblasRowMajor, ta, tb, Int32(rows.count), Int32(cols.count), Int32(k), alpha,
                        pa, Int32(lda), pb, Int32(ldb), beta, pc, Int32(ldc))
        }
    }

    /// The bf16 GEMM on `vdpbf16ps`: op(B) rounded and packed once (its strips split over the
    /// workers), then the panels of `splitPanels` (column panels in whole strips), each
    /// starting from `start` like the float32 GEMM's.
    static func bf16GEMM(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                           start: GEMMStart, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let strip = Int(CK_BF16_NR), strips = (n + strip - 1) / strip
        let packedCount = ck_bf16_packed_b_count(Int64(k), Int64(n))
        let packed = ScratchBuffer(count: (packedCount + 1) / 2)
        let pb = UnsafeMutableRawPointer(packed.pointer).assumingMemoryBound(to: UInt16.self)
        let (rsb, csb) = transB ? (1, ldb) : (ldb, 1)
        let (rsa, csa) = transA ? (1, lda) : (lda, 1)
        parallelFor(strips, minChunk: max(1, 65_536 / max(k * strip, 1))) { range in
            ck_bf16_pack_b(b, Int64(rsb), Int64(csb), Int64(k), Int64(n), Int64(range.lowerBound),
                           Int64(range.upperBound), pb)
        }
        splitPanels(m: m, n: n, k: k, columnMultiple: strip) { rows, cols in
            let accumulate: Int32
            switch start {
            case .zero: accumulate = 0
            default:
                let beta = prepare(start, rows, cols, c: c, ldc: ldc)
                if beta != 1 {
                    for r in rows { for j in cols { c[r * ldc + j] *= beta } }
                }
                accumulate = 1
            }
            let status = ck_bf16_gemm_panel(Int64(rows.count), Int64(cols.count), Int64(k), alpha,
                                            a + rows.lowerBound * rsa, Int64(rsa), Int64(csa), pb,
                                            Int64(cols.lowerBound / strip), c + rows.lowerBound * ldc + cols.lowerBound,
                                            Int64(ldc), accumulate)
            if status != 0 { fatalError("out of memory packing a bf16 GEMM block") }
        }
        withExtendedLifetime(packed) {}
    }

    /// Prepares panel (rows, cols) of C for accumulation from `start`: zero-fills it, or copies
    /// the matrix to add into it. Returns the beta the panel's GEMM then applies to C.
    static func prepare(_ start: GEMMStart, _ rows: Range<Int>, _ cols: Range<Int>,
                                          c: UnsafeMutablePointer<Float>, ldc: Int) -> Float {
        let pc = c + rows.lowerBound * ldc + cols.lowerBound
        switch start {
        case .scaled(let s): return s
        case .zero:
            for r in 0..<rows.count { (pc + r * ldc).update(repeating: 0, count: cols.count) }
        case .copy(let s):
            let ps = s + rows.lowerBound * ldc + cols.lowerBound
            for r in 0..<rows.count { (pc + r * ldc).update(from: ps + r * ldc, count: cols.count) }
        }
        return 1
    }

    /// Runs `panel` over the panels of an m x n GEMM of depth k: one when the GEMM is small
    /// (below `gemmSplitThreshold` multiply-adds), else up to `threads` row panels (when
    /// m >= n) or column panels whose width is a multiple of `columnMultiple`, one task each.
    static func splitPanels(m: Int, n: Int, k: Int, columnMultiple: Int,
                                              _ panel: (Range<Int>, Range<Int>) -> Void) {
        let parts = min(threads, m * n * k / gemmSplitThreshold, max(m, n) / 16)
        if parts <= 1 { panel(0..<m, 0..<n); return }
        let splitRows = m >= n
        let extent = splitRows ? m : n, multiple = splitRows ? 16 : columnMultiple
        let size = ((extent + parts - 1) / parts + multiple - 1) / multiple * multiple
        runTasks(parts) { p in
            let lo = p * size, hi = min(extent, lo + size)
            guard lo < hi else { return }
            if splitRows { panel(lo..<hi, 0..<n) } else { panel(0..<m, lo..<hi) }
        }
    }

    /// dst[i] = src[i] rounded to bfloat16 (kept as float32) for i < n, over the workers.
    public static func roundToBF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        let round = table.pointee.bf16_round!
        parallelFor(n, minChunk: 1 << 15) { r in round(src + r.lowerBound, dst + r.lowerBound, r.count) }
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

    /// `parallelFor` whose body also receives the index of its chunk, in 0..<`threads`: no two
    /// chunks of one call running at the same time share it, so it can select per-worker
    /// scratch. Inline (index 0) when the work is small; called from inside a chunk, the chunks
    /// run one after another on that thread (with indices of their own numbering).
    public static func parallelFor(_ n: Int, minChunk: Int, indexed body: (Int, Range<Int>) -> Void) {
        let workers = min(threads, n / max(minChunk, 1))
        if workers <= 1 { body(0, 0..<n); return }
        let chunk = (n + workers - 1) / workers
        runTasks(workers) { w in
            let lo = w * chunk, hi = min(n, lo + chunk)
            if lo < hi { body(w, lo..<hi) }
        }
    }

    /// Runs `task(0..<count)` on the current worker pool and returns when all have finished.
    @inlinable public static func runTasks(_ count: Int, _ task: (Int) -> Void) {
        withoutActuallyEscaping(task) { task in
            var body = task
            withUnsafeMutablePointer(to: &body) { pointer in
                ck_pool_run(WorkerPool.currentRaw, Int64(count), { context, index in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(index))
                }, pointer)
            }
        }
    }
}
