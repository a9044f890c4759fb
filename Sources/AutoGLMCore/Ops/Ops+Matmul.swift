import Foundation

extension Ops {
    /// Batched matrix product op(a) · op(b) over the last two dimensions, where op transposes
    /// when the matching flag is set: a is [..., m, k] ([..., k, m] with `transposeA`), b is
    /// [..., k, n] ([..., n, k] with `transposeB`); the result is [batch..., m, n] with the batch
    /// dimensions broadcast NumPy-style. Transposes are folded into the BLAS call (no copies); a
    /// 2-D b against a batched a is one GEMM with the batch folded into m. Under
    /// `Autocast.with(.bf16)` the GEMMs (forward and backward) take bfloat16-rounded operands.
    /// Throws when an operand has fewer than 2 dimensions, the inner dimensions differ, or the
    /// batch dimensions cannot be broadcast.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false,
                              transposeB: Bool = false) throws -> Tensor {
        guard a.ndim >= 2, b.ndim >= 2 else {
            throw TensorError("matmul: operands need at least 2 dimensions: \(a.shape) x \(b.shape)")
        }
        let ar = a.shape[a.ndim - 2], ac = a.shape[a.ndim - 1]
        let br = b.shape[b.ndim - 2], bc = b.shape[b.ndim - 1]
        let m = transposeA ? ac : ar, k = transposeA ? ar : ac
        let kb = transposeB ? bc : br, n = transposeB ? br : bc
        guard k == kb else {
            let ta = transposeA ? "ᵀ" : "", tb = transposeB ? "ᵀ" : ""
            throw TensorError("matmul: inner dimensions differ: \(a.shape)\(ta) x \(b.shape)\(tb)")
        }
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let batchPlan: BroadcastPlan
        do { batchPlan = try BroadcastPlan(batchA, batchB, op: "matmul") } catch let error as TensorError {
            guard error.message.hasSuffix("cannot be broadcast") else { throw error }
            throw TensorError("matmul: batch dimensions cannot be broadcast: \(a.shape) x \(b.shape)")
        }
        try validateShape(batchPlan.shape + [m, n], op: "matmul")
        // With k > 0 the GEMMs (beta 0) write every element; with k == 0 the product is zero.
        let out = k > 0 ? Tensor(uninitialized: batchPlan.shape + [m, n]) : Tensor(zeros: batchPlan.shape + [m, n])
        let sizeA = ar * ac, sizeB = br * bc, sizeC = m * n
        let batches = batchPlan.count
        // lda/ldb are the stored row lengths; BLAS wants them >= 1 even for empty matrices.
        let lda = Swift.max(ac, 1), ldb = Swift.max(bc, 1), ldc = Swift.max(n, 1)
        let foldA = !transposeA && b.count == sizeB && batches > 1   // b is one matrix for every batch
        let pa = a.data, pb = b.data, pc = out.data
        let precision = Autocast.precision
        if out.count > 0 && k > 0 {
            if foldA || batches == 1 {
                Kernels.sgemm(transA: transposeA, transB: transposeB, m: m * batches, n: n, k: k, alpha: 1,
                              a: pa, lda: lda, b: pb, ldb: ldb, beta: 0, c: pc, ldc: ldc, precision: precision)
            } else {
                batchPlan.forEachRow(0..<batchPlan.outer) { row, offA, offB in
                    // forEachRow walks rows of the collapsed batch dims; expand the inner one.
                    let inner = batchPlan.inner, ia = batchPlan.innerA, ib = batchPlan.innerB
                    for j in 0..<inner {
                        let bi = row * inner + j
                        Kernels.sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: 1,
                                      a: pa + (offA + j * ia) * sizeA, lda: lda,
                                      b: pb + (offB + j * ib) * sizeB, ldb: ldb,
                                      beta: 0, c: pc + bi * sizeC, ldc: ldc, precision: precision)
                    }
                }
            }
        }
        return out.recorded(from: [a, b]) { g in
            guard g.count > 0, k > 0 else { return }
            let pg = g.data
            // One batch: dop(A) = G · op(B)ᵀ, dop(B) = op(A)ᵀ · G, written in stored layouts; beta 0
            // overwrites (fresh gradient), 1 accumulates.
            func backward(_ ga: UnsafeMutablePointer<Float>?, _ betaA: Float, _ gb: UnsafeMutablePointer<Float>?,
                          _ betaB: Float, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                          _ gc: UnsafePointer<Float>, rows: Int) {
                if let ga {
                    if !transposeA {
                        // dA [rows, k] = G [rows, n] · op(B)ᵀ
                        Kernels.sgemm(transA: false, transB: !transposeB, m: rows, n: k, k: n, alpha: 1,
                                      a: gc, lda: ldc, b: b, ldb: ldb, beta: betaA, c: ga, ldc: lda, precision: precision)
                    } else {
                        // dA [k, m] = op(B) · Gᵀ
                        Kernels.sgemm(transA: transposeB, transB: true, m: k, n: rows, k: n, alpha: 1,
                                      a: b, lda: ldb, b: gc, ldb: ldc, beta: betaA, c: ga, ldc: lda, precision: precision)
                    }
                }
                if let gb {
                    if !transposeB {
                        // dB [k, n] = op(A)ᵀ · G
                        Kernels.sgemm(transA: !transposeA, transB: false, m: k, n: n, k: rows, alpha: 1,
                                      a: a, lda: lda, b: gc, ldb: ldc, beta: betaB, c: gb, ldc: ldb, precision: precision)
                    } else {
                        // dB [n, k] = Gᵀ · op(A)
                        Kernels.sgemm(transA: true, transB: transposeA, m: n, n: k, k: rows, alpha: 1,
                                      a: gc, lda: ldc, b: a, ldb: lda, beta: betaB, c: gb, ldc: ldb, precision: precision)
                    }
                }
            }
            // An operand written by exactly one GEMM per element can take a fresh, uninitialised
            // gradient; one broadcast over batches is summed into a zero-filled one.
            let single = foldA || batches == 1
            let destA = a.requiresGrad ? a.gradDestination(writesAll: single || a.count == batches * sizeA) : nil
            let destB = b.requiresGrad ? b.gradDestination(writesAll: single || b.count == batches * sizeB) : nil
            let ga = destA?.pointer, betaA: Float = destA?.accumulate ?? true ? 1 : 0
            let gb = destB?.pointer, betaB: Float = destB?.accumulate ?? true ? 1 : 0
            if single {
                backward(ga, betaA, gb, betaB, a.data, b.data, pg, rows: m * batches)
            } else {
                let inner = batchPlan.inner, ia = batchPlan.innerA, ib = batchPlan.innerB
                batchPlan.forEachRow(0..<batchPlan.outer) { row, offA, offB in
                    for j in 0..<inner {
                        let bi = row * inner + j
                        let oa = (offA + j * ia) * sizeA, ob = (offB + j * ib) * sizeB
                        backward(ga.map { $0 + oa }, betaA, gb.map { $0 + ob }, betaB, a.data + oa, b.data + ob,
                                 pg + bi * sizeC, rows: m)
                    }
                }
            }
        }
    }

    /// x · weightᵀ for x [..., in] and weight [out, in] (PyTorch `nn.Linear` layout, no bias):
    /// the result is [..., out]. With `residual` (the result's shape), returns residual + x · weightᵀ
    /// with the add fused into the GEMM (the product accumulates onto a copy of the residual, so
    /// there is neither an add pass nor a zeroing pass), and the residual's gradient is the
    /// output's, handed over without a copy. Throws when weight is not 2-D, the inner sizes
    /// differ or the residual's shape is not the result's.
    public static func linear(_ x: Tensor, _ weight: Tensor, adding residual: Tensor? = nil) throws -> Tensor {
        guard weight.ndim == 2 else {
            throw TensorError("linear: weight must be 2-D [out, in], got \(weight.shape)")
        }
        guard x.ndim >= 1 else { throw TensorError("linear: input must have at least 1 dimension, got []") }
        let outF = weight.shape[0], inF = weight.shape[1]
        guard x.shape[x.ndim - 1] == inF else {
            throw TensorError("linear: input features differ: \(x.shape) x \(weight.shape)ᵀ")
        }
        let rows = inF == 0 ? x.shape.dropLast().reduce(1, *) : x.count / inF
        let outShape = Array(x.shape.dropLast()) + [outF]
        try validateShape(outShape, op: "linear")
        if let residual, residual.shape != outShape {
            throw TensorError("linear: residual \(residual.shape) is not the output's shape \(outShape)")
        }
        let out = Tensor(uninitialized: outShape)   // the GEMM writes every element (zeros when in is 0)
        let ldx = Swift.max(inF, 1), ldy = Swift.max(outF, 1)
        let precision = Autocast.precision
        if out.count > 0 {
            Kernels.gemm(transA: false, transB: true, m: rows, n: outF, k: inF, alpha: 1, a: x.data, lda: ldx,
                         b: weight.data, ldb: ldx, start: residual.map { .copy($0.data) } ?? .zero, c: out.data, ldc: ldy,
                         precision: precision)
        }
        return out.recorded(from: [x, weight] + (residual.map { [$0] } ?? [])) { g in
            guard g.count > 0 else { return }
            linearBackward(g.data, x: x, weight: weight, precision: precision)
            // Last: g is not read after this.
            if let residual, residual.requiresGrad { residual.adoptGrad(g) }
        }
    }

    /// The backward of y = x · weightᵀ (`linear`) for the output's gradient `g` (y's shape,
    /// contiguous): dx (+)= g · W and dW (+)= gᵀ · x, each into the tensor's gradient when it
    /// requires one, with the operands rounded to bfloat16 when `precision` is bf16 (the
    /// precision the forward ran in). For ops that fuse a projection with what consumes it
    /// (a fused attention's packed q, k, v) and so compute the projection's gradient themselves.
    public static func linearBackward(_ g: UnsafePointer<Float>, x: Tensor, weight: Tensor, precision: Precision) {
        let outF = weight.shape[0], inF = weight.shape[1]
        guard inF > 0 else { return }
        let rows = x.count / inF, ldx = inF, ldy = Swift.max(outF, 1)
        guard rows > 0, outF > 0 else { return }
        if x.requiresGrad {
            // dx [rows, in] (+)= dy [rows, out] · W [out, in]
            let (dx, acc) = x.gradDestination()
            Kernels.sgemm(transA: false, transB: false, m: rows, n: inF, k: outF, alpha: 1,
                          a: g, lda: ldy, b: weight.data, ldb: ldx, beta: acc ? 1 : 0, c: dx, ldc: ldx,
                          precision: precision)
        }
        if weight.requiresGrad {
            // dW [out, in] (+)= dyᵀ [out, rows] · x [rows, in]
            let (dw, acc) = weight.gradDestination()
            Kernels.sgemm(transA: true, transB: false, m: outF, n: inF, k: rows, alpha: 1,
                          a: g, lda: ldy, b: x.data, ldb: ldx, beta: acc ? 1 : 0, c: dw, ldc: ldx,
                          precision: precision)
        }
    }
}
