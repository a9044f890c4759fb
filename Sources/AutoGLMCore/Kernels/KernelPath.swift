import CBLAS
import CKernels
import Foundation

/// The instruction-set path the kernels run: the element kernels (GELU, sums of squares,
/// bfloat16 rounding) are compiled once per path in one build (`Sources/CKernels/kernels_*.c`),
/// OpenBLAS is pointed at its matching kernels, and bf16 GEMMs use `vdpbf16ps` only on
/// `avx512BF16`. Chosen per worker pool (so per session), at run time.
public enum KernelPath: Int, Comparable, CaseIterable, Sendable {
    /// Portable C as compiled for baseline x86-64 (SSE2).
    case baseline = 0
    /// AVX2 + FMA.
    case avx2 = 1
    /// AVX-512 F/BW/DQ/VL; bf16 GEMMs round their operands and multiply on the fp32 GEMM.
    case avx512 = 2
    /// AVX-512 with AVX512-BF16: bf16 GEMMs on `vdpbf16ps` (`Sources/CKernels/bf16.c`).
    case avx512BF16 = 3

    /// The highest path this CPU and OS support (cpuid, probed once).
    public static let detected = KernelPath(ck_cpu_isa())

    /// The path `auto` resolves to: the detected one, except that AVX512-BF16 CPUs whose
    /// `vdpbf16ps` multiplies at no more than the AVX-512 FMA rate (Intel's before AMX, measured
    /// at half of it on family 6 model 207: BENCHMARKS.md) take `avx512`, whose bf16 GEMMs round
    /// the operands and run OpenBLAS's fp32 kernels. AMD's (Zen 4 and later) keep `avx512BF16`.
    public static let preferred: KernelPath = {
        guard detected == .avx512BF16, ck_cpu_bf16_dot_is_fast() == 0 else { return detected }
        return .avx512
    }()

    /// The path of a C `ck_isa`.
    init(_ isa: ck_isa) { self = KernelPath(rawValue: Int(isa.rawValue)) ?? .baseline }

    /// The C value.
    var isa: ck_isa { ck_isa(rawValue: UInt32(rawValue)) }

    /// "baseline", "avx2", "avx512" or "avx512_bf16" (the `run.isa` values).
    public var name: String { String(cString: ck_isa_name(isa)) }

    /// The path named `name` (one of the `name`s), if any.
    public init?(named name: String) {
        guard let path = KernelPath.allCases.first(where: { $0.name == name }) else { return nil }
        self = path
    }

    /// Orders paths by level.
    public static func < (a: KernelPath, b: KernelPath) -> Bool { a.rawValue < b.rawValue }
}

extension Kernels {
    /// The path of the current worker pool.
    public static var path: KernelPath { KernelPath(ck_pool_isa(WorkerPool.currentRaw)) }

    /// The element kernels of the current pool's path.
    @usableFromInline static var table: UnsafePointer<ck_kernel_table> { ck_kernels_for(ck_pool_isa(WorkerPool.currentRaw)) }

    /// The OpenBLAS kernels in use ("SkylakeX", "Haswell", ...), chosen once per process by the
    /// first call of `prepareBLAS(for:)` (a session's path, or the preferred one at the first
    /// GEMM): OpenBLAS's kernels are process-wide and cannot change while GEMMs run.
    public static var blasCore: String { prepareBLAS(for: KernelPath.preferred) }

    /// Makes OpenBLAS single-threaded and points it at the kernels of `path` (see
    /// `ck_blas_select_core`), the first time it is called; later calls return the core chosen
    /// then. Returns the OpenBLAS core name.
    @discardableResult
    public static func prepareBLAS(for path: KernelPath) -> String {
        blasLock.lock(); defer { blasLock.unlock() }
        if let core = chosenBLASCore { return core }
        openblas_set_num_threads(1)
        let core = String(cString: ck_blas_select_core(path.isa))
        chosenBLASCore = core
        return core
    }

    /// Guards `chosenBLASCore`.
    private static let blasLock = NSLock()
    /// The OpenBLAS core once chosen.
    nonisolated(unsafe) private static var chosenBLASCore: String?
}
