import AutoGLMCore
import CAutoGLM
import Foundation

/// The `aglm_host_api` table given to every plugin: one process-wide instance, never freed.
/// Every function validates its arguments and reports problems through the call's context;
/// none of them traps on bad input from a plugin.
enum HostAPI {
    /// Minor ABI version this host implements.
    static let abiMinor: UInt32 = UInt32(AGLM_ABI_MINOR)
    /// Major ABI version this host implements.
    static let abiMajor: UInt32 = UInt32(AGLM_ABI_MAJOR)
    /// The host's version string.
    static let version = HostInfo.version

    /// The table (allocated and filled once).
    nonisolated(unsafe) static let table: UnsafeMutablePointer<aglm_host_api> = {
        let p = UnsafeMutablePointer<aglm_host_api>.allocate(capacity: 1)
        p.initialize(to: makeTable())
        return p
    }()

    private static let versionCString: UnsafePointer<CChar> = UnsafePointer(strdup(version)!)

    // swiftlint:disable:next function_body_length
    private static func makeTable() -> aglm_host_api {
        var t = aglm_host_api()
        t.struct_size = MemoryLayout<aglm_host_api>.size
        t.abi_major = abiMajor
        t.abi_minor = abiMinor
        t.host_version = versionCString

        t.log = { ctxp, level, message in
            let ctx = CallContext.from(ctxp)
            let text = message.map { String(cString: $0) } ?? ""
            let origin = ctx.map { ($0.component ?? URL(fileURLWithPath: $0.file).lastPathComponent) } ?? "plugin"
            HostLog.emit(HostLog.Level(rawValue: Int32(level.rawValue)) ?? .error, "\(origin): \(text)")
        }
        t.set_error = { ctxp, message in
            guard let ctx = CallContext.from(ctxp) else { return }
            ctx.errorMessage = message.map { String(cString: $0) } ?? "(NULL message)"
        }
        t.register_component = { ctxp, desc in
            guard let ctx = CallContext.from(ctxp) else { return AGLM_ERR_INVALID_ARGUMENT }
            guard let registration = ctx.registration else {
                ctx.fail("register_component: only allowed during the plugin's init")
                return AGLM_ERR_STATE
            }
            do {
                try registration.register(desc)
                return AGLM_OK
            } catch {
                ctx.errorMessage = "register_component: \(error)"
                return AGLM_ERR_INVALID_ARGUMENT
            }
        }
        t.register_function = { ctxp, prototype, fn, info in
            guard let ctx = CallContext.from(ctxp) else { return AGLM_ERR_INVALID_ARGUMENT }
            guard let registration = ctx.registration else {
                ctx.fail("register_function: only allowed during the plugin's init")
                return AGLM_ERR_STATE
            }
            do {
                try registration.registerFunction(prototype: prototype, address: fn.map { unsafeBitCast($0, to: UnsafeRawPointer.self) },
                                                  info: info)
                return AGLM_OK
            } catch {
                ctx.errorMessage = "register_function: \(error)"
                return AGLM_ERR_INVALID_ARGUMENT
            }
        }
        t.param_number = { params, name in
            guard let params = ParameterValues.from(params), let name else { return 0 }
            return params.number(String(cString: name))
        }
        t.param_string = { params, name in
            guard let params = ParameterValues.from(params), let name else { return UnsafePointer(HostAPI.emptyCString) }
            return params.cString(String(cString: name))
        }
        t.param_list = { params, name, out, capacity in
            guard let params = ParameterValues.from(params), let name else { return 0 }
            let list = params.list(String(cString: name))
            if let out { for i in 0..<min(list.count, capacity) { out[i] = list[i] } }
            return list.count
        }
        t.write_state = { ctxp, data, size in
            guard let ctx = CallContext.from(ctxp) else { return AGLM_ERR_INVALID_ARGUMENT }
            guard ctx.acceptsState else { ctx.fail("write_state: only allowed inside save_state"); return AGLM_ERR_STATE }
            guard size == 0 || data != nil else { ctx.fail("write_state: NULL data"); return AGLM_ERR_INVALID_ARGUMENT }
            if size > 0 { ctx.stateBytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size)) }
            return AGLM_OK
        }
        t.emit_metric = { ctxp, name, value in
            guard let ctx = CallContext.from(ctxp) else { return }
            guard ctx.acceptsMetrics else { ctx.fail("emit_metric: only allowed inside an evaluator's compute"); return }
            guard let name, !String(cString: name).isEmpty else { ctx.fail("emit_metric: empty metric name"); return }
            ctx.metrics.append((String(cString: name), value))
        }

        t.tensor_new = { ctxp, ndim, shape, data in
            guard let ctx = CallContext.from(ctxp) else { return nil }
            guard let dims = HostAPI.dims(ctx, "tensor_new", ndim, shape) else { return nil }
            let tensor = Tensor(zeros: dims)
            if let data { tensor.data.update(from: data, count: tensor.count) }
            return ctx.handle(for: tensor)
        }
        t.tensor_view = { ctxp, handle, view in
            guard let ctx = CallContext.from(ctxp) else { return AGLM_ERR_INVALID_ARGUMENT }
            guard let tensor = ctx.tensor(handle, op: "tensor_view") else {
                ctx.fail("tensor_view: NULL tensor"); return AGLM_ERR_INVALID_ARGUMENT
            }
            guard let view, view.pointee.struct_size >= MemoryLayout<aglm_view>.size else {
                ctx.fail("tensor_view: view is NULL or its struct_size is too small"); return AGLM_ERR_INVALID_ARGUMENT
            }
            let owned = TensorView(tensor)
            ctx.keepAlive(owned)
            view.pointee = owned.view
            return AGLM_OK
        }
        t.tensor_ndim = { handle in
            guard let handle else { return 0 }
            return Int32(Unmanaged<Tensor>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue().ndim)
        }
        t.tensor_dim = { handle, dim in
            guard let handle else { return -1 }
            let shape = Unmanaged<Tensor>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue().shape
            let d = dim < 0 ? Int(dim) + shape.count : Int(dim)
            return d >= 0 && d < shape.count ? Int64(shape[d]) : -1
        }

        t.matmul = { c, a, b, ta, tb in
            HostAPI.op(c, "matmul", [a, b]) { try Ops.matmul($0[0], $0[1], transposeA: ta != 0, transposeB: tb != 0) }
        }
        t.add = { c, a, b in HostAPI.op(c, "add", [a, b]) { try Ops.add($0[0], $0[1]) } }
        t.sub = { c, a, b in HostAPI.op(c, "sub", [a, b]) { try Ops.sub($0[0], $0[1]) } }
        t.mul = { c, a, b in HostAPI.op(c, "mul", [a, b]) { try Ops.mul($0[0], $0[1]) } }
        t.div = { c, a, b in HostAPI.op(c, "div", [a, b]) { try Ops.div($0[0], $0[1]) } }
        t.affine = { c, a, s, shift in
            HostAPI.op(c, "affine", [a]) { Ops.affine($0[0], scale: Float(s), shift: Float(shift)) }
        }
        t.exp = { c, a in HostAPI.op(c, "exp", [a]) { Ops.exp($0[0]) } }
        t.elu = { c, a in HostAPI.op(c, "elu", [a]) { Ops.elu($0[0]) } }
        t.gelu = { c, a in HostAPI.op(c, "gelu", [a]) { Ops.gelu($0[0]) } }
        t.softmax = { c, a, mask in
            HostAPI.op(c, "softmax", [a]) { inputs in
                switch mask {
                case AGLM_MASK_NONE: return Ops.softmax(inputs[0], causal: false)
                case AGLM_MASK_CAUSAL: return Ops.softmax(inputs[0], causal: true)
                default: throw TensorError(message: "unknown mask kind \(mask.rawValue)")
                }
            }
        }
        t.masked_fill = { c, a, mask, value in
            HostAPI.op(c, "masked_fill", [a, mask]) { try Ops.maskedFill($0[0], mask: $0[1], value: Float(value)) }
        }
        t.topk_mask = { c, a, k in
            HostAPI.op(c, "topk_mask", [a]) { try Ops.topkMask($0[0], k: Int(k)) }
        }
        t.causal_mask = { c, rows, cols, window in
            HostAPI.op(c, "causal_mask", []) { _ in
                guard rows > 0, cols > 0, rows <= 1 << 20, cols <= 1 << 20 else {
                    throw TensorError(message: "rows and cols must be in 1...1048576, got \(rows) x \(cols)")
                }
                return Ops.causalMask(rows: Int(rows), cols: Int(cols), window: Int(window))
            }
        }
        t.layer_norm = { c, a, w, b, eps in
            guard let ctx = CallContext.from(c) else { return nil }
            guard let x = ctx.tensor(a, op: "layer_norm") else { return nil }
            let weight = w == nil ? nil : ctx.tensor(w, op: "layer_norm")
            let bias = b == nil ? nil : ctx.tensor(b, op: "layer_norm")
            if (w != nil && weight == nil) || (b != nil && bias == nil) { return nil }
            return HostAPI.run(ctx, "layer_norm") { try Ops.layerNorm(x, weight: weight, bias: bias, eps: Float(eps)) }
        }
        t.sum = { c, a, dim, keep in HostAPI.op(c, "sum", [a]) { try Ops.sum($0[0], dim: Int(dim), keepDim: keep != 0) } }
        t.cumsum = { c, a, dim in HostAPI.op(c, "cumsum", [a]) { try Ops.cumsum($0[0], dim: Int(dim)) } }
        t.reshape = { c, a, ndim, shape in
            guard let ctx = CallContext.from(c) else { return nil }
            guard let dims = HostAPI.dims(ctx, "reshape", ndim, shape, allowMinusOne: true) else { return nil }
            return HostAPI.op(c, "reshape", [a]) { try Ops.reshape($0[0], dims) }
        }
        t.transpose = { c, a, d0, d1 in HostAPI.op(c, "transpose", [a]) { try Ops.transpose($0[0], Int(d0), Int(d1)) } }
        t.repeat_interleave = { c, a, dim, times in
            HostAPI.op(c, "repeat_interleave", [a]) { try Ops.repeatInterleave($0[0], dim: Int(dim), times: Int(times)) }
        }

        t.sgemm = { ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, cp, ldc in
            guard let a, let b, let cp, m > 0, n > 0, k > 0 else { return }
            Kernels.sgemm(transA: ta != 0, transB: tb != 0, m: Int(m), n: Int(n), k: Int(k), alpha: alpha,
                          a: a, lda: Int(lda), b: b, ldb: Int(ldb), beta: beta, c: cp, ldc: Int(ldc))
        }
        t.parallel_for = { n, minChunk, fn, user in
            guard let fn, n > 0 else { return }
            Kernels.parallelFor(Int(n), minChunk: Int(max(minChunk, 1))) { range in
                fn(user, Int64(range.lowerBound), Int64(range.upperBound))
            }
        }
        return t
    }

    private static let emptyCString: UnsafeMutablePointer<CChar> = strdup("")!

    /// Validates a C shape (ndim 0...8, extents >= 1, or one -1 when allowed).
    static func dims(_ ctx: CallContext, _ op: String, _ ndim: Int32, _ shape: UnsafePointer<Int64>?,
                     allowMinusOne: Bool = false) -> [Int]? {
        guard ndim >= 0, ndim <= 8, ndim == 0 || shape != nil else {
            ctx.fail("\(op): ndim must be 0...8 with a non-NULL shape, got \(ndim)"); return nil
        }
        var dims: [Int] = []
        var total = 1
        for i in 0..<Int(ndim) {
            let d = shape![i]
            if d == -1 && allowMinusOne { dims.append(-1); continue }
            guard d >= 1, d <= 1 << 31 else { ctx.fail("\(op): extent \(d) at dimension \(i) is not positive"); return nil }
            total = total.multipliedReportingOverflow(by: Int(d)).partialValue
            guard total <= 1 << 34 else { ctx.fail("\(op): shape too large"); return nil }
            dims.append(Int(d))
        }
        return dims
    }

    /// Resolves the handles, runs `body` and returns a new handle, or NULL with the error set.
    static func op(_ ctxp: OpaquePointer?, _ name: String, _ inputs: [OpaquePointer?],
                   _ body: ([Tensor]) throws -> Tensor) -> OpaquePointer? {
        guard let ctx = CallContext.from(ctxp) else { return nil }
        var tensors: [Tensor] = []
        for (i, h) in inputs.enumerated() {
            guard let t = ctx.tensor(h, op: name) else {
                if h == nil { ctx.fail("\(name): input \(i) is NULL") }
                return nil
            }
            tensors.append(t)
        }
        return run(ctx, name) { try body(tensors) }
    }

    /// Runs `body`, turning a thrown error into NULL plus a message on `ctx`.
    static func run(_ ctx: CallContext, _ name: String, _ body: () throws -> Tensor) -> OpaquePointer? {
        do { return ctx.handle(for: try body()) } catch {
            ctx.fail("\(name): \(error)")
            return nil
        }
    }
}
