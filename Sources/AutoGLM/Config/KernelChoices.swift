import AutoGLMCore

/// `run.isa`: the kernel path a session runs, or `auto`.
public enum ISAChoice: String, Sendable, CaseIterable, HostKeyChoice {
    /// `KernelPath.preferred`: the fastest path known for this CPU.
    case auto
    /// Portable C (baseline x86-64).
    case baseline
    /// AVX2 + FMA.
    case avx2
    /// AVX-512 (bf16 GEMMs on rounded operands and the fp32 GEMM).
    case avx512
    /// AVX-512 with AVX512-BF16 (bf16 GEMMs on `vdpbf16ps`).
    case avx512BF16 = "avx512_bf16"

    /// The path this choice asks for (nil for `auto`).
    public var path: KernelPath? { self == .auto ? nil : KernelPath(named: rawValue) }
}

/// `train.precision` is read as the engine's `Precision`.
extension Precision: HostKeyChoice {}
