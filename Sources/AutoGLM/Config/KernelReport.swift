import AutoGLMCore

/// How a run's kernels were chosen (`run.isa`, `train.precision`), in one place for the session,
/// `autoglm bench` and `run.json`.
public enum KernelReport {
    /// The kernel path `config` asks for: `run.isa`, or `KernelPath.preferred` for `auto`.
    public static func path(_ config: RunConfig) -> KernelPath {
        config.run.isa.path ?? KernelPath.preferred
    }

    /// How bf16 GEMMs multiply on `path`.
    public static func bf16GEMM(_ path: KernelPath) -> String {
        path == .avx512BF16 ? "vdpbf16ps" : "rounded_sgemm"
    }

    /// The line a session logs when it starts: the path, OpenBLAS's kernels and, for bf16, how
    /// its GEMMs run (on a path without `vdpbf16ps` the rounding is emulated: the same values,
    /// no speed-up from bf16; said once per session).
    public static func describe(_ config: RunConfig) -> String {
        let path = path(config)
        var line = "kernels: \(path.name) (cpu: \(KernelPath.detected.name), OpenBLAS \(Kernels.prepareBLAS(for: path)))"
        guard config.train.precision == .bf16 else { return line }
        if path == .avx512BF16 {
            line += "; bf16 GEMMs on vdpbf16ps"
        } else if KernelPath.detected == .avx512BF16 {
            line += "; bf16 GEMMs round their operands and run on the fp32 GEMM (faster on this CPU than vdpbf16ps; run.isa=avx512_bf16 forces it)"
        } else {
            line += "; bf16 rounding is emulated (this CPU lacks AVX512-BF16): correct, but no faster than fp32"
        }
        return line
    }
}
