import AutoGLMCore
import CAutoGLM
import Foundation

/// An attention component instance serving one transformer block.
public final class AttentionInstance: ComponentInstance, @unchecked Sendable {
    /// Key/value heads the component asked for (equal to the query heads unless GQA/MQA).
    public private(set) var kvHeads = 0
    private let vtable: aglm_attention_vtable

    /// Creates the instance for block `layer` of a model with `nHead` heads of `headDim` features.
    public init(registry: PluginRegistry, name: String, parameters: [String: ParameterValue],
                nHead: Int, headDim: Int, blockSize: Int, layer: Int, nLayer: Int) throws {
        let component = try registry.require(.attention, name)
        vtable = component.vtable.load(as: aglm_attention_vtable.self)
        let info = UnsafeMutablePointer<aglm_attention_info>.allocate(capacity: 1)
        let layoutPointer = UnsafeMutablePointer<aglm_attention_layout>.allocate(capacity: 1)
        defer { info.deallocate(); layoutPointer.deallocate() }
        info.initialize(to: aglm_attention_info(struct_size: MemoryLayout<aglm_attention_info>.size, n_head: Int64(nHead),
                                                head_dim: Int64(headDim), block_size: Int64(blockSize),
                                                layer: Int64(layer), n_layer: Int64(nLayer)))
        layoutPointer.initialize(to: aglm_attention_layout(struct_size: MemoryLayout<aglm_attention_layout>.size,
                                                           kv_heads: Int64(nHead)))
        try super.init(component: component, parameters: parameters, info: UnsafeRawPointer(info),
                       layout: UnsafeMutableRawPointer(layoutPointer))
        let layout = layoutPointer.pointee
        guard layout.kv_heads >= 1, Int(layout.kv_heads) <= nHead, nHead % Int(layout.kv_heads) == 0 else {
            throw PluginError(file: component.info.file, component: name, call: "create",
                              reason: "kv_heads \(layout.kv_heads) must be between 1 and n_head (\(nHead)) and divide it")
        }
        kvHeads = Int(layout.kv_heads)
    }

    /// Attention output [B, H, T, D] for q [B, H, T, D] and k, v [B, kvHeads, T, D], recorded on
    /// the autograd tape when recording is on.
    public func forward(q: Tensor, k: Tensor, v: Tensor) throws -> Tensor {
        if let forward = vtable.forward { return try composed(forward, q, k, v) }
        return try fused(q, k, v)
    }

    private func composed(_ forward: @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?) -> OpaquePointer?,
                          _ q: Tensor, _ k: Tensor, _ v: Tensor) throws -> Tensor {
        let ctx = context("forward")
        let result = forward(instance, ctx.pointer, ctx.handle(for: q), ctx.handle(for: k), ctx.handle(for: v))
        guard let result, let out = ctx.tensor(result, op: "forward result") else { throw ctx.error(status: nil) }
        guard out.shape == q.shape else {
            throw PluginError(file: info.file, component: info.name, call: "forward",
                              reason: "returned shape \(out.shape), expected \(q.shape)")
        }
        return out
    }

    private func fused(_ q: Tensor, _ k: Tensor, _ v: Tensor) throws -> Tensor {
        let out = Tensor(zeros: q.shape)
        let needsBackward = Autograd.isRecording && (q.requiresGrad || k.requiresGrad || v.requiresGrad)
        let views = (TensorView(q), TensorView(k), TensorView(v), TensorView(out))
        let ctx = context("fused_forward")
        var saved: UnsafeMutableRawPointer?
        let status = vtable.fused_forward!(instance, ctx.pointer, views.0.pointer, views.1.pointer, views.2.pointer,
                                           views.3.pointer, needsBackward ? 1 : 0, &saved)
        withExtendedLifetime(views) {}
        let box = SavedState(saved, owner: self, free: vtable.free_saved)
        try ctx.check(status)
        guard needsBackward else { return out }
        let backward = vtable.fused_backward!
        return out.recorded(from: [q, k, v]) { [self] dout in
            let grads = (Tensor(zeros: q.shape), Tensor(zeros: k.shape), Tensor(zeros: v.shape))
            let views = (TensorView(q), TensorView(k), TensorView(v), TensorView(out), TensorView(dout),
                         TensorView(grads.0), TensorView(grads.1), TensorView(grads.2))
            let ctx = context("fused_backward")
            let status = backward(instance, ctx.pointer, box.pointer, views.0.pointer, views.1.pointer, views.2.pointer,
                                  views.3.pointer, views.4.pointer, views.5.pointer, views.6.pointer, views.7.pointer)
            withExtendedLifetime(views) {}
            try ctx.check(status)
            if q.requiresGrad { q.accumulateGrad(grads.0) }
            if k.requiresGrad { k.accumulateGrad(grads.1) }
            if v.requiresGrad { v.accumulateGrad(grads.2) }
        }
    }
}

/// Owns a fused attention's saved pointer and frees it through the plugin exactly once.
private final class SavedState {
    let pointer: UnsafeMutableRawPointer?
    private let owner: AttentionInstance
    private let free: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void)?

    init(_ pointer: UnsafeMutableRawPointer?, owner: AttentionInstance,
         free: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void)?) {
        self.pointer = pointer; self.owner = owner; self.free = free
    }

    deinit { if let pointer, let free { free(owner.instance, pointer) } }
}
