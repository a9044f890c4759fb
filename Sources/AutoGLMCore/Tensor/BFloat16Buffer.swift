import CKernels
import Foundation

/// A buffer of bfloat16 values (the upper halves of float32s) rounded from float32, for the
/// bfloat16 views a `train.precision: bf16` run hands to a fused attention. 64-byte aligned,
/// freed with the object.
public final class BFloat16Buffer: @unchecked Sendable {
    /// First element.
    public let pointer: UnsafeMutablePointer<UInt16>
    /// Number of elements.
    public let count: Int
    /// The memory (a float buffer of half the count).
    private let storage: TensorStorage

    /// src[0..<count] rounded to bfloat16 (to nearest, ties to even; as `vcvtne2ps2bf16`), on
    /// the current pool's workers with its path's conversion.
    public init(rounding src: UnsafePointer<Float>, count: Int) {
        self.count = count
        storage = TensorStorage(uninitializedCount: (count + 1) / 2)
        let dst = UnsafeMutableRawPointer(storage.pointer).bindMemory(to: UInt16.self, capacity: max(count, 1))
        pointer = dst
        let convert = Kernels.table.pointee.bf16_from_float!
        Kernels.parallelFor(count, minChunk: 1 << 15) { r in convert(src + r.lowerBound, dst + r.lowerBound, r.count) }
    }

    /// The values widened to float32 (exact).
    public var floats: [Float] {
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { ck_bf16_to_float(pointer, $0.baseAddress!, count) }
        return out
    }
}

extension Tensor {
    /// A new tensor (no gradient) holding this one's values rounded to bfloat16, as float32.
    public func roundedToBF16() -> Tensor {
        let out = Tensor(uninitialized: shape)
        Kernels.roundToBF16(data, out.data, count)
        return out
    }
}
