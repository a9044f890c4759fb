import AutoGLMCore
import Foundation

/// One tensor a fused attention reads q, k or v from, in the form the run's precision asks for
/// (issue #18): the tensor itself in an fp32 run; in a bf16 run (`Autocast.precision`) a copy
/// rounded to bfloat16, held as bfloat16 for a component that accepts bf16 views
/// (`aglm_attention_layout.bf16`) or as float32 values for one that does not. Kept alive from the
/// forward to the backward, which reads the same values.
final class AttentionOperand {
    /// Where the values are.
    private enum Values {
        /// The float32 tensor (the original, or its rounded copy).
        case floats(Tensor)
        /// A bfloat16 copy.
        case bf16(BFloat16Buffer)
    }
    private let values: Values

    /// `tensor` as the current precision wants it for a component that does (`bf16Views`) or
    /// does not accept bfloat16 views.
    init(_ tensor: Tensor, bf16Views: Bool) {
        switch Autocast.precision {
        case .fp32: values = .floats(tensor)
        case .bf16: values = bf16Views ? .bf16(BFloat16Buffer(rounding: tensor.data, count: tensor.count))
                                       : .floats(tensor.roundedToBF16())
        }
    }

    /// A view of `shape` and `strides` (elements) starting `offset` elements in.
    func view(offset: Int, shape: [Int], strides: [Int]) -> TensorView {
        switch values {
        case .floats(let t): return TensorView(data: UnsafeMutableRawPointer(t.data + offset), shape: shape, strides: strides)
        case .bf16(let b): return TensorView(data: UnsafeMutableRawPointer(b.pointer + offset), shape: shape, strides: strides, bf16: true)
        }
    }

    /// A dense view of all of it as `shape`.
    func view(shape: [Int]) -> TensorView {
        var strides = [Int](repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
        return view(offset: 0, shape: shape, strides: strides)
    }
}
