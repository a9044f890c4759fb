import Foundation

/// The number format of the GEMM operands (`train.precision`).
public enum Precision: String, Sendable, CaseIterable {
    /// float32 operands and results.
    case fp32
    /// Operands rounded to bfloat16, products accumulated in float32, float32 results.
    case bf16
}

/// Mixed precision with autocast semantics, as `torch.autocast` on the CPU: while
/// `Autocast.with(.bf16)` runs on a thread, the GEMMs of `Ops.linear` and `Ops.matmul` started
/// there (forward, and the backward of those recorded then) round their operands to bfloat16
/// and accumulate in float32; everything else (LayerNorm statistics, softmax, the loss,
/// reductions, optimizer updates, master weights and gradients) stays float32. Per thread, off
/// (fp32) by default.
public enum Autocast {
    private static let key = "autoglm.autocast.bf16"

    /// The precision of GEMMs started on this thread now.
    public static var precision: Precision {
        Thread.current.threadDictionary[key] == nil ? .fp32 : .bf16
    }

    /// Runs `body` with GEMM operands in `precision` on this thread, then restores the previous.
    public static func with<T>(_ precision: Precision, _ body: () throws -> T) rethrows -> T {
        let dict = Thread.current.threadDictionary
        let was = dict[key]
        dict[key] = precision == .bf16 ? true : nil
        defer { dict[key] = was }
        return try body()
    }
}
