import AutoGLMCore
import CAutoGLM
import Foundation

/// An optimizer component instance bound to a model's parameters. The host owns every state
/// buffer the optimizer declares, so checkpoints can save and restore them by name.
public final class OptimizerInstance: ComponentInstance, @unchecked Sendable {
    /// One parameter with its C description and its state buffers.
    final class Slot {
        let parameter: Tensor
        let name: UnsafeMutablePointer<CChar>
        let shape: UnsafeMutablePointer<Int64>
        var info: aglm_param_info
        var states: [(name: String, tensor: Tensor)] = []

        init(parameter: Tensor, index: Int) {
            self.parameter = parameter
            name = strdup(parameter.name ?? "param\(index)")!
            shape = .allocate(capacity: max(parameter.ndim, 1))
            for (i, d) in parameter.shape.enumerated() { shape[i] = Int64(d) }
            info = aglm_param_info(struct_size: MemoryLayout<aglm_param_info>.size, name: UnsafePointer(name),
                                   ndim: Int32(parameter.ndim), shape: UnsafePointer(shape), numel: Int64(parameter.count),
                                   decay: parameter.ndim >= 2 ? 1 : 0, index: Int32(index))
        }

        deinit { free(name); shape.deallocate() }
    }

    private let vtable: aglm_optimizer_vtable
    private let slots: [Slot]

    /// Creates the optimizer and lets it declare state for each of `parameters` (named tensors).
    public init(registry: PluginRegistry, name: String, parameters values: [String: ParameterValue],
                modelParameters: [Tensor]) throws {
        let component = try registry.require(.optimizer, name)
        vtable = component.vtable.load(as: aglm_optimizer_vtable.self)
        slots = modelParameters.enumerated().map { Slot(parameter: $1, index: $0) }
        try super.init(component: component, parameters: values, info: nil, layout: nil)
        for slot in slots { try declareState(slot) }
    }

    private func declareState(_ slot: Slot) throws {
        let capacity = 8
        var decls = [aglm_state_decl](repeating: aglm_state_decl(), count: capacity)
        for i in 0..<capacity { decls[i].struct_size = MemoryLayout<aglm_state_decl>.size }
        var count = 0
        let ctx = context("declare_state")
        let status = withUnsafeMutablePointer(to: &slot.info) { info in
            decls.withUnsafeMutableBufferPointer { vtable.declare_state!(instance, ctx.pointer, info, $0.baseAddress, capacity, &count) }
        }
        try ctx.check(status)
        guard count <= capacity else {
            throw ctx.error(status: AGLM_ERR_INVALID_ARGUMENT, reason: "declared \(count) state buffers, at most \(capacity) allowed")
        }
        for var d in decls.prefix(count) {
            let name = withUnsafeBytes(of: &d.name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard DescriptorValidation.isIdentifier(name), d.ndim >= 0, d.ndim <= 8 else {
                throw ctx.error(status: AGLM_ERR_INVALID_ARGUMENT, reason: "state buffer '\(name)' of \(slot.parameter.name ?? "?") needs an identifier name and ndim 0...8")
            }
            let ndim = Int(d.ndim)
            let dims: [Int] = withUnsafeBytes(of: &d.shape) { raw in
                let extents = raw.bindMemory(to: Int64.self)
                return (0..<ndim).map { Int(extents[$0]) }
            }
            guard dims.allSatisfy({ $0 >= 1 && $0 <= 1 << 31 }) else {
                throw ctx.error(status: AGLM_ERR_INVALID_ARGUMENT, reason: "state buffer '\(name)' has invalid shape \(dims)")
            }
            slot.states.append((name, Tensor(zeros: dims)))
        }
    }

    /// Every state buffer as ("<param>/<state>", tensor), for checkpoints.
    public var stateTensors: [(name: String, tensor: Tensor)] {
        slots.flatMap { slot in slot.states.map { ("\(slot.parameter.name ?? "")/\($0.name)", $0.tensor) } }
    }

    /// Applies one update to every parameter that has a gradient. `step` is 1-based.
    public func step(lr: Double, step: Int) throws {
        if let begin = vtable.step_begin {
            let ctx = context("step_begin")
            try ctx.check(begin(instance, ctx.pointer, Int64(step), lr))
        }
        let stepFn = vtable.step!
        for slot in slots {
            guard let grad = slot.parameter.grad else { continue }
            let value = TensorView(slot.parameter), gradView = TensorView(grad)
            let stateViews = slot.states.map { TensorView($0.tensor) }
            var statePointers: [UnsafeMutablePointer<aglm_view>?] = stateViews.map(\.pointer)
            let ctx = context("step")
            let status = withUnsafeMutablePointer(to: &slot.info) { info in
                statePointers.withUnsafeMutableBufferPointer { states in
                    var args = aglm_optim_step(struct_size: MemoryLayout<aglm_optim_step>.size, param: info,
                                               value: value.pointer, grad: gradView.pointer, states: states.baseAddress,
                                               state_count: stateViews.count, lr: lr, step: Int64(step))
                    return stepFn(instance, ctx.pointer, &args)
                }
            }
            withExtendedLifetime((value, gradView, stateViews)) {}
            try ctx.check(status)
        }
    }
}

extension CallContext {
    /// An error about this call detected by the host.
    func error(status: Int32, reason: String) -> PluginError {
        errorMessage = reason
        return error(status: status)
    }
}
