import AutoGLMCore
import CAutoGLM
import Foundation

/// An optimizer component instance bound to a model's parameters. The host owns every state
/// buffer the optimizer declares, so checkpoints can save and restore them by name.
public final class OptimizerInstance: ComponentInstance, @unchecked Sendable {
    /// One parameter with its C description, its state buffers and its own update counter.
    final class Slot {
        let description: ParameterInfoStorage
        var states: [(name: String, tensor: Tensor)] = []
        /// Updates applied to this parameter so far (ABI 1.2 `param_step` is this + 1), kept as
        /// two float32 words (high and low 24 bits: exact to 2^48) so that checkpoints save and
        /// restore it like a state buffer, as "<param>/_step" (a name no plugin can declare:
        /// declared names start with a letter).
        let updates = Tensor(zeros: [2])

        init(parameter: Tensor, index: Int, role: ParameterRole) {
            description = ParameterInfoStorage(parameter: parameter, index: index, role: role)
        }

        var parameter: Tensor { description.parameter }
        var name: String { description.displayName }

        /// The update count.
        var updateCount: Int {
            get { Int(updates.data[0]) << 24 + Int(updates.data[1]) }
            set { updates.data[0] = Float(newValue >> 24); updates.data[1] = Float(newValue & 0xFF_FFFF) }
        }
    }

    private let vtable: aglm_optimizer_vtable
    private let slots: [Slot]

    /// Creates the optimizer and lets it declare state for each of `parameters` (named tensors)
    /// with `roles` (index for index; missing ones are unknown).
    public init(registry: PluginRegistry, name: String, parameters values: [String: ParameterValue],
                modelParameters: [Tensor], roles: [ParameterRole] = []) throws {
        let component = try registry.require(.optimizer, name)
        vtable = component.vtable(as: aglm_optimizer_vtable.self)
        slots = modelParameters.enumerated().map { i, p in Slot(parameter: p, index: i, role: i < roles.count ? roles[i] : []) }
        try super.init(component: component, parameters: values, info: nil, layout: nil)
        for slot in slots { try declareState(slot) }
    }

    private func declareState(_ slot: Slot) throws {
        let capacity = 8
        var decls = [aglm_state_decl](repeating: aglm_state_decl(), count: capacity)
        for i in 0..<capacity { decls[i].struct_size = MemoryLayout<aglm_state_decl>.size }
        var count = 0
        let ctx = context("declare_state")
        ctx.parameter = slot.name
        let status = withUnsafeMutablePointer(to: &slot.description.info) { info in
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
                throw ctx.error(status: AGLM_ERR_INVALID_ARGUMENT, reason: "state buffer '\(name)' needs an identifier name and ndim 0...8")
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

    /// Every state buffer as ("<param>/<state>", tensor), for checkpoints, and each parameter's
    /// update counter as "<param>/_step".
    public var stateTensors: [(name: String, tensor: Tensor)] {
        slots.flatMap { slot in
            slot.states.map { ("\(slot.name)/\($0.name)", $0.tensor) } + [("\(slot.name)/_step", slot.updates)]
        }
    }

    /// Sets every parameter's update counter to `count`: for a checkpoint written before the
    /// counters were saved, where every parameter was updated at every step.
    public func resetUpdateCounts(to count: Int) {
        for slot in slots { slot.updateCount = count }
    }

    /// Applies one update to every parameter that has a gradient. `step` is 1-based;
    /// `weightDecayScale` multiplies the optimizer's weight decay (ABI 1.4, `train.weight_decay_schedule`).
    public func step(lr: Double, step: Int, weightDecayScale: Double = 1) throws {
        if let begin = vtable.step_begin {
            let ctx = context("step_begin")
            ctx.step = step
            try ctx.check(begin(instance, ctx.pointer, Int64(step), lr))
        }
        let stepFn = vtable.step!
        for slot in slots {
            guard let grad = slot.parameter.grad else { continue }
            let value = TensorView(slot.parameter), gradView = TensorView(grad)
            let stateViews = slot.states.map { TensorView($0.tensor) }
            var statePointers: [UnsafeMutablePointer<aglm_view>?] = stateViews.map(\.pointer)
            let ctx = context("step")
            ctx.step = step
            ctx.parameter = slot.name
            let paramStep = slot.updateCount + 1
            let status = withUnsafeMutablePointer(to: &slot.description.info) { info in
                statePointers.withUnsafeMutableBufferPointer { states in
                    var args = aglm_optim_step(struct_size: MemoryLayout<aglm_optim_step>.size, param: info,
                                               value: value.pointer, grad: gradView.pointer, states: states.baseAddress,
                                               state_count: stateViews.count, lr: lr, step: Int64(step),
                                               param_step: Int64(paramStep), weight_decay_scale: weightDecayScale)
                    return stepFn(instance, ctx.pointer, &args)
                }
            }
            withExtendedLifetime((value, gradView, stateViews)) {}
            try ctx.check(status)
            slot.updateCount = paramStep
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
