import AutoGLMCore
import CAutoGLM
import Foundation

/// A model parameter's C description (`aglm_param_info`), with the name and shape it points to
/// kept at stable addresses for as long as this object lives.
final class ParameterInfoStorage {
    /// The parameter described.
    let parameter: Tensor
    private let name: UnsafeMutablePointer<CChar>
    private let shape: UnsafeMutablePointer<Int64>
    /// The C description; its pointers point into this object.
    var info: aglm_param_info

    /// Describes `parameter`, at `index` in the model's parameter list, with `role`.
    init(parameter: Tensor, index: Int, role: ParameterRole) {
        self.parameter = parameter
        name = strdup(parameter.name ?? "param\(index)")!
        shape = .allocate(capacity: max(parameter.ndim, 1))
        for (i, d) in parameter.shape.enumerated() { shape[i] = Int64(d) }
        info = aglm_param_info(struct_size: MemoryLayout<aglm_param_info>.size, name: UnsafePointer(name),
                               ndim: Int32(parameter.ndim), shape: UnsafePointer(shape), numel: Int64(parameter.count),
                               decay: parameter.ndim >= 2 ? 1 : 0, index: Int32(index), role: role.rawValue)
    }

    deinit { free(name); shape.deallocate() }

    /// The parameter's name as given to plugins.
    var displayName: String { String(cString: name) }
}
