import CKernels
import Foundation

/// A pool of worker threads for the parallel kernels and GEMM panels (`ck_pool` in
/// Sources/CKernels/pool.c). Kernels run on the pool made current on the calling thread with
/// `run(_:)`, or on `WorkerPool.shared` when none is. Each training session owns a pool, so
/// several sessions on several threads never share workers: each splits its work exactly as it
/// would alone, and so computes bit-identical results.
public final class WorkerPool: @unchecked Sendable {
    /// The C pool.
    let raw: OpaquePointer

    /// The process-wide pool used where no pool is current (tests, benchmarks, tools): every
    /// core, or what `Kernels.setThreads` sets.
    public static let shared = WorkerPool(threads: Kernels.coreCount)

    /// A pool whose regions run on `threads` threads (the caller included; clamped to 1...256).
    public init(threads: Int) {
        guard let pool = ck_pool_create(Int32(clamping: threads)) else { fatalError("out of memory creating a worker pool") }
        raw = pool
    }

    deinit { ck_pool_destroy(raw) }

    /// Threads a region runs on.
    public var threads: Int {
        get { Int(ck_pool_threads(raw)) }
        set { ck_pool_set_threads(raw, Int32(clamping: newValue)) }
    }

    /// Runs `body` with this pool current on the calling thread (kernels started by `body` on this
    /// thread use it), then restores the previous one. Nests.
    public func run<T>(_ body: () throws -> T) rethrows -> T {
        let previous = ck_pool_set_current(raw)
        defer { ck_pool_set_current(previous) }
        return try withExtendedLifetime(self) { try body() }
    }

    /// The kernel path of its regions (`KernelPath.detected` unless set; clamped to it).
    public var path: KernelPath {
        get { KernelPath(ck_pool_isa(raw)) }
        set { ck_pool_set_isa(raw, newValue.isa) }
    }

    /// The pool kernels on this thread run on.
    @usableFromInline static var currentRaw: OpaquePointer { ck_pool_current() ?? shared.raw }
}
