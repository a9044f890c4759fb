import AutoGLMCore
import CAutoGLM
import Foundation

/// Owns an `aglm_view` of a float32, bfloat16 or int32 buffer (dense, or strided for a fused
/// attention that accepts it) and its shape/stride arrays, at stable addresses, so `pointer`
/// stays valid as long as this object lives.
final class TensorView {
    /// The C view; its `shape`/`strides` point into this object's buffers.
    let pointer: UnsafeMutablePointer<aglm_view>
    private let shape: UnsafeMutablePointer<Int64>
    private let strides: UnsafeMutablePointer<Int64>

    /// A view of `shape` with explicit `strides` (in elements) starting at `data`: float32, or
    /// int32 when `int32` is set, or bfloat16 when `bf16` is set.
    init(data: UnsafeMutableRawPointer, shape dims: [Int], strides steps: [Int], int32: Bool = false, bf16: Bool = false) {
        let n = max(dims.count, 1)
        shape = .allocate(capacity: n)
        strides = .allocate(capacity: n)
        for i in 0..<dims.count { shape[i] = Int64(dims[i]); strides[i] = Int64(steps[i]) }
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: aglm_view(struct_size: MemoryLayout<aglm_view>.size, data: data, ndim: Int32(dims.count),
                         dtype: aglm_dtype(code: UInt8(int32 ? AGLM_DTYPE_INT.rawValue
                                                       : bf16 ? AGLM_DTYPE_BFLOAT.rawValue : AGLM_DTYPE_FLOAT.rawValue),
                                           bits: bf16 ? 16 : 32, lanes: 1),
                         shape: UnsafePointer(shape), strides: UnsafePointer(strides)))
    }

    /// A dense row-major view of `dims` at `data`.
    convenience init(data: UnsafeMutableRawPointer, shape dims: [Int], int32: Bool = false, bf16: Bool = false) {
        var steps = [Int](repeating: 1, count: dims.count)
        for i in stride(from: dims.count - 2, through: 0, by: -1) { steps[i] = steps[i + 1] * dims[i + 1] }
        self.init(data: data, shape: dims, strides: steps, int32: int32, bf16: bf16)
    }

    /// A view of a tensor's values.
    convenience init(_ tensor: Tensor) {
        self.init(data: UnsafeMutableRawPointer(tensor.data), shape: tensor.shape)
    }

    deinit { pointer.deallocate(); shape.deallocate(); strides.deallocate() }

    /// A copy of the view.
    var view: aglm_view { pointer.pointee }
}
