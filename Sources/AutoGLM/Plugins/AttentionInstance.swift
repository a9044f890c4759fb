import AutoGLMCore
import CAutoGLM
import Foundation

/// An attention component instance serving one transformer block.
public final class AttentionInstance: ComponentInstance, @unchecked Sendable {
    /// Key/value heads the component asked for (equal to the query heads unless GQA/MQA).
    public private(set) var kvHeads = 0
    /// Whether the (fused) component reads strided views and writes every output element
    /// (`aglm_attention_layout.strided`): then `forwardPacked` runs without copies.
    public private(set) var strided = false
    /// Whether the (fused) component accepts bfloat16 q, k, v (`aglm_attention_layout.bf16`,
    /// ABI 1.3): in a bf16 run it then gets them as bfloat16 views, else as float32 views of the
    /// same rounded values (issue #18).
    public private(set) var acceptsBF16 = false
    private let vtable: aglm_attention_vtable

    /// Creates the instance for block `layer` of a model with `nHead` heads of `headDim` features.
    public init(registry: PluginRegistry, name: String, parameters: [String: ParameterValue],
                nHead: Int, headDim: Int, blockSize: Int, layer: Int, nLayer: Int) throws {
        let component = try registry.require(.attention, name)
        vtable = component.vtable(as: aglm_attention_vtable.self)
        let info = UnsafeMutablePointer<aglm_attention_info>.allocate(capacity: 1)
        let layoutPointer = UnsafeMutablePointer<aglm_attention_layout>.allocate(capacity: 1)
        defer { info.deallocate(); layoutPointer.deallocate() }
        info.initialize(to: aglm_attention_info(struct_size: MemoryLayout<aglm_attention_info>.size, n_head: Int64(nHead),
                                                head_dim: Int64(headDim), block_size: Int64(blockSize),
                                                layer: Int64(layer), n_layer: Int64(nLayer)))
        layoutPointer.initialize(to: aglm_attention_layout(struct_size: MemoryLayout<aglm_attention_layout>.size,
                                                           kv_heads: Int64(nHead), strided: 0, bf16: 0))
        try super.init(component: component, parameters: parameters, info: UnsafeRawPointer(info),
                       layout: UnsafeMutableRawPointer(layoutPointer))
        let layout = layoutPointer.pointee
        guard layout.kv_heads >= 1, Int(layout.kv_heads) <= nHead, nHead % Int(layout.kv_heads) == 0 else {
            throw PluginError(file: component.info.file, component: name, call: "create",
                              reason: "kv_heads \(layout.kv_heads) must be between 1 and n_head (\(nHead)) and divide it")
        }
        kvHeads = Int(layout.kv_heads)
        strided = layout.strided != 0 && vtable.fused_forward != nil
        acceptsBF16 = layout.bf16 != 0 && vtable.fused_forward != nil
    }

    /// Whether the component has the incremental decoding entry (ABI 1.2 `decode`).
    public var decodes: Bool { vtable.decode != nil }

    /// One incremental decoding call: the outputs [B, H, n, D] of positions `position` ..<
    /// `position + n` for their q [B, H, n, D] and k, v [B, kvHeads, n, D], against this
    /// instance's caches `keyCache`, `valueCache` [B, kvHeads, C, D] (rows before `position`
    /// hold what earlier calls of the sequence wrote; the call writes rows position ..< position
    /// + n). Not recorded on the tape.
    public func decode(q: Tensor, k: Tensor, v: Tensor, keyCache: Tensor, valueCache: Tensor, position: Int) throws -> Tensor {
        guard let decode = vtable.decode else {
            throw PluginError(file: info.file, component: info.name, call: "decode", reason: "the component has no decode entry")
        }
        let n = q.shape[2], capacity = keyCache.shape[2]
        precondition(q.ndim == 4 && k.shape == [q.shape[0], kvHeads, n, q.shape[3]] && v.shape == k.shape &&
                     keyCache.shape == [q.shape[0], kvHeads, capacity, q.shape[3]] && valueCache.shape == keyCache.shape &&
                     position >= 0 && position + n <= capacity, "decode: inconsistent shapes")
        let out = Tensor(zeros: q.shape)
        let views = (TensorView(q), TensorView(k), TensorView(v), TensorView(keyCache), TensorView(valueCache), TensorView(out))
        let ctx = context("decode")
        var args = aglm_decode_args(struct_size: MemoryLayout<aglm_decode_args>.size, position: Int64(position),
                                    q: UnsafePointer(views.0.pointer), k: UnsafePointer(views.1.pointer),
                                    v: UnsafePointer(views.2.pointer), k_cache: views.3.pointer, v_cache: views.4.pointer,
                                    out: views.5.pointer)
        let status = decode(instance, ctx.pointer, &args)
        withExtendedLifetime(views) {}
        try ctx.check(status)
        return out
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
        // issue #18: in a bf16 run q, k, v are rounded to bfloat16
        let operands = [q, k, v].map { AttentionOperand($0, bf16Views: acceptsBF16) }
        func inputs() -> (TensorView, TensorView, TensorView) {
            (operands[0].view(shape: q.shape), operands[1].view(shape: k.shape), operands[2].view(shape: v.shape))
        }
        let box = try runForward(inputs(), TensorView(out), needsBackward: needsBackward)
        guard needsBackward else { return out }
        return out.recorded(from: [q, k, v]) { [self] dout in
            let grads = (Tensor(zeros: q.shape), Tensor(zeros: k.shape), Tensor(zeros: v.shape))
            try runBackward(box, inputs(), out: TensorView(out), dout: TensorView(dout),
                            grads: (TensorView(grads.0), TensorView(grads.1), TensorView(grads.2)))
            if q.requiresGrad { q.accumulateGrad(grads.0) }
            if k.requiresGrad { k.accumulateGrad(grads.1) }
            if v.requiresGrad { v.accumulateGrad(grads.2) }
        }
    }

    /// Attention over a packed projection `h` [B, T, (nHead + 2·kvHeads)·headDim] (queries, then
    /// keys, then values, each head after head), returning [B, T, nHead·headDim] (heads merged),
    /// for a component with `strided` set: its views point straight into `h`, the result and
    /// `h`'s gradient, so no head split, merge or zero-fill is copied. Recorded on the tape.
    public func forwardPacked(_ h: Tensor, nHead: Int, headDim: Int) throws -> Tensor {
        // issue #18: in a bf16 run q, k, v are read from a bfloat16-rounded copy of h (same strides)
        let needsBackward = Autograd.isRecording && h.requiresGrad
        let (out, backward) = try packed(AttentionOperand(h, bf16Views: acceptsBF16), shape: h.shape, nHead: nHead,
                                         headDim: headDim, needsBackward: needsBackward)
        guard let backward else { return out }
        return out.recorded(from: [h]) { dout in
            // dq, dk, dv tile h's gradient exactly, so a fresh one needs no zero-fill; an existing
            // one gets the result added.
            let (destination, accumulate) = h.gradDestination()
            let scratch = accumulate ? Tensor(uninitialized: h.shape) : nil
            try backward(dout, scratch?.data ?? destination)
            if let scratch { Kernels.addInPlace(destination, scratch.data, scratch.count) }
        }
    }

    /// `forwardPacked` of the projection h = x · weightᵀ (`Ops.linear`), recorded as one op
    /// from x and weight. In a bf16 run that records a backward, the float32 h is not kept: the
    /// component reads only its rounded copy (`AttentionOperand`: bfloat16 for `layout.bf16`, half
    /// of h's memory; float32 otherwise), so h is freed once rounded and the backward writes h's
    /// gradient into a buffer of its own, then runs the projection's backward
    /// (`Ops.linearBackward`) on it, as `Ops.linear` would: the values are those of
    /// `forwardPacked(Ops.linear(x, weight))` bit for bit (tested), with one copy of q, k, v kept
    /// between the forward and the backward instead of two. Otherwise it is exactly
    /// `forwardPacked(Ops.linear(x, weight))`.
    public func forwardPacked(projecting x: Tensor, weight: Tensor, nHead: Int, headDim: Int) throws -> Tensor {
        let precision = Autocast.precision
        guard precision == .bf16, Autograd.isRecording, x.requiresGrad || weight.requiresGrad else {
            return try forwardPacked(try Ops.linear(x, weight), nHead: nHead, headDim: headDim)
        }
        let (source, shape) = try roundedProjection(x, weight)
        let (out, run) = try packed(source, shape: shape, nHead: nHead, headDim: headDim, needsBackward: true)
        guard let backward = run else { return out }
        return out.recorded(from: [x, weight]) { dout in
            let gradient = Tensor(uninitialized: shape)   // dq, dk, dv tile it exactly
            try backward(dout, gradient.data)
            Ops.linearBackward(gradient.data, x: x, weight: weight, precision: precision)
        }
    }

    /// x · weightᵀ computed without recording and rounded for the component: only the rounded
    /// copy outlives this call (with the projection's shape).
    private func roundedProjection(_ x: Tensor, _ weight: Tensor) throws -> (AttentionOperand, [Int]) {
        let h = try Autograd.withNoGrad { try Ops.linear(x, weight) }
        return (AttentionOperand(h, bf16Views: acceptsBF16), h.shape)
    }

    /// The fused forward of a packed projection of `shape` [B, T, (nHead + 2·kvHeads)·headDim]
    /// read from `source`, and, when `needsBackward`, its backward: given the output's gradient,
    /// it writes the projection's gradient (every element) at the pointer it is handed.
    private func packed(_ source: AttentionOperand, shape: [Int], nHead: Int, headDim: Int, needsBackward: Bool) throws
        -> (Tensor, ((Tensor, UnsafeMutablePointer<Float>) throws -> Void)?) {
        guard shape.count == 3, shape[2] == (nHead + 2 * kvHeads) * headDim else {
            throw TensorError("attention: packed projection \(shape) does not hold \(nHead) query and 2 x \(kvHeads) key/value heads of \(headDim)")
        }
        precondition(strided, "forwardPacked needs a component that accepts strided views")
        let b = shape[0], t = shape[1], width = shape[2], c = nHead * headDim
        /// Heads `first..<first + count` of a [B, T, rowWidth] buffer as a [B, count, T, headDim] view.
        func heads(_ base: UnsafeMutablePointer<Float>, _ first: Int, _ count: Int, rowWidth: Int) -> TensorView {
            TensorView(data: UnsafeMutableRawPointer(base + first * headDim), shape: [b, count, t, headDim],
                       strides: [t * rowWidth, headDim, rowWidth, 1])
        }
        func packed(_ base: UnsafeMutablePointer<Float>) -> (TensorView, TensorView, TensorView) {
            (heads(base, 0, nHead, rowWidth: width), heads(base, nHead, kvHeads, rowWidth: width),
             heads(base, nHead + kvHeads, kvHeads, rowWidth: width))
        }
        func inputs() -> (TensorView, TensorView, TensorView) {
            func part(_ first: Int, _ count: Int) -> TensorView {
                source.view(offset: first * headDim, shape: [b, count, t, headDim], strides: [t * width, headDim, width, 1])
            }
            return (part(0, nHead), part(nHead, kvHeads), part(nHead + kvHeads, kvHeads))
        }
        let out = Tensor(uninitialized: [b, t, c])
        let box = try runForward(inputs(), heads(out.data, 0, nHead, rowWidth: c), needsBackward: needsBackward)
        guard needsBackward else { return (out, nil) }
        return (out, { [self] dout, gradient in
            try runBackward(box, inputs(), out: heads(out.data, 0, nHead, rowWidth: c),
                            dout: heads(dout.data, 0, nHead, rowWidth: c), grads: packed(gradient))
        })
    }

    /// Calls fused_forward on the views; returns the saved state (freed when the box goes).
    private func runForward(_ qkv: (TensorView, TensorView, TensorView), _ out: TensorView,
                            needsBackward: Bool) throws -> SavedState {
        let ctx = context("fused_forward")
        var saved: UnsafeMutableRawPointer?
        let status = vtable.fused_forward!(instance, ctx.pointer, qkv.0.pointer, qkv.1.pointer, qkv.2.pointer,
                                           out.pointer, needsBackward ? 1 : 0, &saved)
        withExtendedLifetime((qkv, out)) {}
        let box = SavedState(saved, owner: self, free: vtable.free_saved)
        try ctx.check(status)
        return box
    }

    /// Calls fused_backward on the views.
    private func runBackward(_ box: SavedState, _ qkv: (TensorView, TensorView, TensorView), out: TensorView,
                             dout: TensorView, grads: (TensorView, TensorView, TensorView)) throws {
        let ctx = context("fused_backward")
        let status = vtable.fused_backward!(instance, ctx.pointer, box.pointer, qkv.0.pointer, qkv.1.pointer, qkv.2.pointer,
                                            out.pointer, dout.pointer, grads.0.pointer, grads.1.pointer, grads.2.pointer)
        withExtendedLifetime((qkv, out, dout, grads)) {}
        try ctx.check(status)
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
