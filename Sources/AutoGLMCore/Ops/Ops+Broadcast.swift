import Foundation

/// How two shapes broadcast against each other (NumPy rules), with the output's dimensions
/// collapsed as far as possible so kernels run long contiguous inner loops.
struct BroadcastPlan {
    /// The broadcast output shape.
    let shape: [Int]
    /// Number of output elements.
    let count: Int
    /// Collapsed dimensions (at least one); their product is `count`.
    let dims: [Int]
    /// Element strides of the two operands along `dims` (0 where an operand is broadcast).
    let sa: [Int], sb: [Int]

    /// Length of the innermost collapsed dimension.
    var inner: Int { dims[dims.count - 1] }
    /// Number of inner rows.
    var outer: Int { inner == 0 ? 0 : count / inner }
    /// Innermost stride of operand a (0 or 1).
    var innerA: Int { sa[sa.count - 1] }
    /// Innermost stride of operand b (0 or 1).
    var innerB: Int { sb[sb.count - 1] }

    /// The plan for `a` op `b`, or throws "<op>: shapes [..] and [..] cannot be broadcast".
    init(_ a: [Int], _ b: [Int], op: String) throws {
        let n = Swift.max(a.count, b.count)
        let ap = Array(repeating: 1, count: n - a.count) + a
        let bp = Array(repeating: 1, count: n - b.count) + b
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            if ap[i] == bp[i] || bp[i] == 1 { out[i] = ap[i] } else if ap[i] == 1 { out[i] = bp[i] } else {
                throw TensorError("\(op): shapes \(a) and \(b) cannot be broadcast")
            }
        }
        shape = out
        count = try Ops.validateShape(out, op: op)
        // Contiguous strides of each (padded) operand, zeroed on size-1 dimensions.
        var stA = [Int](repeating: 0, count: n), stB = [Int](repeating: 0, count: n)
        var accA = 1, accB = 1
        for i in stride(from: n - 1, through: 0, by: -1) {
            stA[i] = ap[i] == 1 ? 0 : accA
            stB[i] = bp[i] == 1 ? 0 : accB
            accA *= ap[i]; accB *= bp[i]
        }
        var d: [Int] = [], xa: [Int] = [], xb: [Int] = []
        for i in 0..<n where out[i] != 1 {
            if let last = d.last, xa[xa.count - 1] == stA[i] * out[i], xb[xb.count - 1] == stB[i] * out[i] {
                d[d.count - 1] = last * out[i]
                xa[xa.count - 1] = stA[i]; xb[xb.count - 1] = stB[i]
            } else {
                d.append(out[i]); xa.append(stA[i]); xb.append(stB[i])
            }
        }
        if d.isEmpty { d = [1]; xa = [0]; xb = [0] }
        dims = d; sa = xa; sb = xb
    }

    /// Calls `body(row, offsetA, offsetB)` for each inner row in `rows`, in order.
    @inline(__always)
    func forEachRow(_ rows: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        let nd = dims.count - 1
        if nd == 0 {
            for r in rows { body(r, 0, 0) }
            return
        }
        if rows.isEmpty { return }
        // Odometer over the outer dimensions, started at rows.lowerBound.
        var idx = [Int](repeating: 0, count: nd)
        var rem = rows.lowerBound, oa = 0, ob = 0
        for k in stride(from: nd - 1, through: 0, by: -1) {
            idx[k] = rem % dims[k]; rem /= dims[k]
            oa += idx[k] * sa[k]; ob += idx[k] * sb[k]
        }
        for r in rows {
            body(r, oa, ob)
            var k = nd - 1
            while k >= 0 {
                idx[k] += 1; oa += sa[k]; ob += sb[k]
                if idx[k] < dims[k] { break }
                oa -= sa[k] * dims[k]; ob -= sb[k] * dims[k]
                idx[k] = 0
                k -= 1
            }
        }
    }
}

/// A pointwise binary function with its partial derivatives (scaled by the incoming gradient).
protocol BinaryKernel {
    /// f(a, b).
    func f(_ a: Float, _ b: Float) -> Float
    /// g · ∂f/∂a.
    func gradA(_ g: Float, _ a: Float, _ b: Float) -> Float
    /// g · ∂f/∂b.
    func gradB(_ g: Float, _ a: Float, _ b: Float) -> Float
}

extension Ops {
    /// out[j] = k.f(a[j*sa], b[j*sb]) for j < n, with sa, sb in {0, 1}.
    @inline(__always)
    static func mapRow<K: BinaryKernel>(_ k: K, _ n: Int, _ a: UnsafePointer<Float>, _ sa: Int,
                                        _ b: UnsafePointer<Float>, _ sb: Int, _ out: UnsafeMutablePointer<Float>) {
        if sa != 0 && sb != 0 {
            for j in 0..<n { out[j] = k.f(a[j], b[j]) }
        } else if sa != 0 {
            let bv = b[0]
            for j in 0..<n { out[j] = k.f(a[j], bv) }
        } else if sb != 0 {
            let av = a[0]
            for j in 0..<n { out[j] = k.f(av, b[j]) }
        } else {
            let v = k.f(a[0], b[0])
            for j in 0..<n { out[j] = v }
        }
    }

    /// dst[j*so] += fn(g[j], own[j*so], other[j*sx]) for j < n, with so, sx in {0, 1}
    /// (so == 0 sums the row into dst[0]); stores instead of adding when `accumulate` is false.
    @inline(__always)
    static func gradRow(_ n: Int, _ g: UnsafePointer<Float>, _ own: UnsafePointer<Float>, _ so: Int,
                        _ other: UnsafePointer<Float>, _ sx: Int, _ dst: UnsafeMutablePointer<Float>,
                        accumulate: Bool, _ fn: (Float, Float, Float) -> Float) {
        if so != 0 {
            if sx != 0 {
                if accumulate {
                    for j in 0..<n { dst[j] += fn(g[j], own[j], other[j]) }
                } else {
                    for j in 0..<n { dst[j] = fn(g[j], own[j], other[j]) }
                }
            } else {
                let xv = other[0]
                if accumulate {
                    for j in 0..<n { dst[j] += fn(g[j], own[j], xv) }
                } else {
                    for j in 0..<n { dst[j] = fn(g[j], own[j], xv) }
                }
            }
        } else {
            let ov = own[0]
            var s: Float = 0
            if sx != 0 {
                for j in 0..<n { s += fn(g[j], ov, other[j]) }
            } else {
                let xv = other[0]
                for j in 0..<n { s += fn(g[j], ov, xv) }
            }
            if accumulate { dst[0] += s } else { dst[0] = s }
        }
    }

    /// Runs `k` over the broadcast of `a` and `b` into a new tensor of `plan.shape`.
    static func broadcastForward<K: BinaryKernel>(_ k: K, _ plan: BroadcastPlan,
                                                  _ a: Tensor, _ b: Tensor) -> Tensor {
        if plan.count == 0 { return Tensor(zeros: plan.shape) }
        let out = Tensor(uninitialized: plan.shape)  // every element is written below
        let pa = a.data, pb = b.data, po = out.data
        let inner = plan.inner, ia = plan.innerA, ib = plan.innerB
        if plan.dims.count == 1 {
            // One collapsed dimension: split it into contiguous chunks.
            Kernels.parallelFor(inner, minChunk: elementwiseGrain) { r in
                let lo = r.lowerBound
                mapRow(k, r.count, pa + lo * ia, ia, pb + lo * ib, ib, po + lo)
            }
        } else {
            Kernels.parallelFor(plan.outer, minChunk: Swift.max(1, elementwiseGrain / inner)) { rows in
                plan.forEachRow(rows) { r, oa, ob in
                    mapRow(k, inner, pa + oa, ia, pb + ob, ib, po + r * inner)
                }
            }
        }
        return out
    }

    /// Accumulates the gradients of `a` and `b` (those that require one) for `g` = ∂L/∂out.
    static func broadcastBackward<K: BinaryKernel>(_ k: K, _ plan: BroadcastPlan,
                                                   _ a: Tensor, _ b: Tensor, _ g: Tensor) {
        if plan.count == 0 { return }
        let pa = a.data, pb = b.data, pg = g.data
        let inner = plan.inner, ia = plan.innerA, ib = plan.innerB
        if a.requiresGrad {
            // Without broadcasting of a, rows write disjoint parts of da: each element is written
            // once (so a fresh gradient needs no zero-fill) and rows can run in parallel.
            let disjoint = a.count == plan.count
            let (da, acc) = a.gradDestination(writesAll: disjoint)
            let run: (Range<Int>) -> Void = { rows in
                plan.forEachRow(rows) { r, oa, ob in
                    gradRow(inner, pg + r * inner, pa + oa, ia, pb + ob, ib, da + oa, accumulate: acc) { g, x, y in k.gradA(g, x, y) }
                }
            }
            if plan.dims.count == 1 && disjoint {
                Kernels.parallelFor(inner, minChunk: elementwiseGrain) { r in
                    let lo = r.lowerBound
                    gradRow(r.count, pg + lo, pa + lo, 1, pb + lo * ib, ib, da + lo, accumulate: acc) { g, x, y in k.gradA(g, x, y) }
                }
            } else if disjoint {
                Kernels.parallelFor(plan.outer, minChunk: Swift.max(1, elementwiseGrain / inner), run)
            } else {
                run(0..<plan.outer)
            }
        }
        if b.requiresGrad {
            let disjoint = b.count == plan.count
            let (db, acc) = b.gradDestination(writesAll: disjoint)
            let run: (Range<Int>) -> Void = { rows in
                plan.forEachRow(rows) { r, oa, ob in
                    gradRow(inner, pg + r * inner, pb + ob, ib, pa + oa, ia, db + ob, accumulate: acc) { g, y, x in k.gradB(g, x, y) }
                }
            }
            if plan.dims.count == 1 && disjoint {
                Kernels.parallelFor(inner, minChunk: elementwiseGrain) { r in
                    let lo = r.lowerBound
                    gradRow(r.count, pg + lo, pb + lo, 1, pa + lo * ia, ia, db + lo, accumulate: acc) { g, y, x in k.gradB(g, x, y) }
                }
            } else if disjoint {
                Kernels.parallelFor(plan.outer, minChunk: Swift.max(1, elementwiseGrain / inner), run)
            } else {
                run(0..<plan.outer)
            }
        }
    }
}
