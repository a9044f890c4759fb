import AutoGLMCore
import CAutoGLM
import Foundation

/// The host side of `model_param_count`, `model_param` and `model_param_find` (ABI 1.2):
/// callbacks reach the model's parameters through the context of their `on_event` call.
enum ModelParametersAccess {
    /// The parameters of the call, or nil with an error naming `op` when the call has none.
    static func model(_ ctx: CallContext, _ op: String) -> ModelParameters? {
        guard let model = ctx.modelParameters else {
            ctx.fail("\(op): only inside a callback's on_event while a model is attached (during training)")
            return nil
        }
        return model
    }

    /// `model_param`: fills the caller's `info` (up to its struct_size) and `value` (a writable
    /// view of the parameter itself) for parameter `index`.
    static func describe(_ ctx: CallContext, index: Int64, info: UnsafeMutablePointer<aglm_param_info>?,
                         value: UnsafeMutablePointer<aglm_view>?) -> aglm_status {
        guard let model = model(ctx, "model_param") else { return AGLM_ERR_STATE }
        guard index >= 0, index < model.tensors.count else {
            ctx.fail("model_param: index \(index) is out of range: the model has \(model.tensors.count) parameters")
            return AGLM_ERR_INVALID_ARGUMENT
        }
        let described = model.descriptions[Int(index)]
        if let info {
            let minimum = ABIStruct.size(through: MemoryLayout<aglm_param_info>.offset(of: \.index), MemoryLayout<Int32>.size)
            let size = info.pointee.struct_size
            guard size >= minimum else {
                ctx.fail("model_param: info struct_size \(size) is smaller than ABI 1.0's \(minimum): set it to sizeof(aglm_param_info)")
                return AGLM_ERR_INVALID_ARGUMENT
            }
            var filled = described.info
            let count = min(size, MemoryLayout<aglm_param_info>.size)
            filled.struct_size = count
            withUnsafeBytes(of: &filled) { UnsafeMutableRawPointer(info).copyMemory(from: $0.baseAddress!, byteCount: count) }
        }
        if let value {
            guard value.pointee.struct_size >= MemoryLayout<aglm_view>.size else {
                ctx.fail("model_param: value struct_size \(value.pointee.struct_size) is too small: set it to sizeof(aglm_view)")
                return AGLM_ERR_INVALID_ARGUMENT
            }
            let view = TensorView(described.parameter)
            ctx.keepAlive(view)
            value.pointee = view.view
        }
        return AGLM_OK
    }

    /// `model_param_find`: the index of the parameter named `name`, or -1 with an error.
    static func find(_ ctx: CallContext, name: UnsafePointer<CChar>?) -> Int64 {
        guard let model = model(ctx, "model_param_find") else { return -1 }
        guard let name else { ctx.fail("model_param_find: name is NULL"); return -1 }
        let text = String(cString: name)
        guard let index = model.index(named: text) else {
            ctx.fail("model_param_find: the model has no parameter '\(text)'\(Suggestion.hint(for: text, in: model.names))")
            return -1
        }
        return Int64(index)
    }
}
