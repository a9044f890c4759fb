import Foundation

struct MaskedFillKernel: BinaryKernel {
    let value: Float
    @inline(__always) func f(_ a: Float, _ m: Float) -> Float { m != 0 ? a : value }
    @inline(__always) func gradA(_ g: Float, _ a: Float, _ m: Float) -> Float { m != 0 ? g : 0 }
    @inline(__always) func gradB(_ g: Float, _ a: Float, _ m: Float) -> Float { 0 }
}

extension Ops {
    /// `a` where `mask` is nonzero, `value` where it is zero (`mask` broadcasts to a's shape; it
    /// is a constant and gets no gradient). The gradient flows to `a` only where mask != 0.
    /// Throws when mask does not broadcast to exactly a's shape.
    public static func maskedFill(_ a: Tensor, mask: Tensor, value: Float) throws -> Tensor {
        let plan = try BroadcastPlan(a.shape, mask.shape, op: "maskedFill")
        guard plan.shape == a.shape else {
            throw TensorError("maskedFill: mask \(mask.shape) does not broadcast to \(a.shape)")
        }
        let k = MaskedFillKernel(value: value)
        let out = broadcastForward(k, plan, a, mask)
        return out.recorded(from: [a]) { g in
            guard a.requiresGrad, plan.count > 0 else { return }
            // a has the output's shape, so every element of da is written exactly once.
            let (da, acc) = a.gradDestination(), pg = g.data, pa = a.data, pm = mask.data
            let inner = plan.inner, im = plan.innerB
            Kernels.parallelFor(plan.outer, minChunk: max(1, elementwiseGrain / inner)) { rows in
                plan.forEachRow(rows) { r, oa, om in
                    let o = r * inner
                    gradRow(inner, pg + o, pa + oa, 1, pm + om, im, da + oa, accumulate: acc) { g, _, m in m != 0 ? g : 0 }
                }
            }
        }
    }

    /// A constant 0/1 tensor of a's shape marking, in each last-dimension row, the k largest
    /// entries (ties go to the lower index; -inf and NaN entries are never kept; k >= the row
    /// length keeps every finite entry). Throws when k < 0 or a is a scalar.
    public static func topkMask(_ a: Tensor, k: Int) throws -> Tensor {
        guard k >= 0 else { throw TensorError("topkMask: k must be >= 0, got \(k)") }
        guard a.ndim >= 1 else { throw TensorError("topkMask: needs at least 1 dimension, got []") }
        let out = Tensor(zeros: a.shape)
        let cols = a.shape[a.ndim - 1]
        guard cols > 0, a.count > 0, k > 0 else { return out }
        let nRows = a.count / cols
        let px = a.data, po = out.data
        parallelRows(nRows, rowCost: cols * 8) { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: cols)
            defer { scratch.deallocate() }
            for r in range {
                let x = px + r * cols, o = po + r * cols
                var c = 0
                for j in 0..<cols where x[j] > -.infinity { scratch[c] = x[j]; c += 1 }
                if k >= c {
                    for j in 0..<cols where x[j] > -.infinity { o[j] = 1 }
                    continue
                }
                // The k-th largest value, then every value above it and the first ties.
                let t = quickSelect(scratch, c, c - k)
                var greater = 0
                for j in 0..<cols where x[j] > t { greater += 1 }
                var ties = k - greater
                for j in 0..<cols {
                    if x[j] > t { o[j] = 1 } else if x[j] == t && ties > 0 { o[j] = 1; ties -= 1 }
                }
            }
        }
        return out
    }

    /// The `index`-th smallest (0-based) of v[0..<n]; reorders v. Values are finite or +inf.
    static func quickSelect(_ v: UnsafeMutablePointer<Float>, _ n: Int, _ index: Int) -> Float {
        var lo = 0, hi = n - 1
        while hi > lo {
            // Median-of-three pivot, then a three-way partition (robust to many ties).
            let mid = lo + (hi - lo) / 2
            let a = v[lo], b = v[mid], c = v[hi]
            let pivot = max(min(a, b), min(max(a, b), c))
            var lt = lo, i = lo, gt = hi
            while i <= gt {
                let x = v[i]
                if x < pivot {
                    v[i] = v[lt]; v[lt] = x; lt += 1; i += 1
                } else if x > pivot {
                    v[i] = v[gt]; v[gt] = x; gt -= 1
                } else {
                    i += 1
                }
            }
            if index < lt { hi = lt - 1 } else if index > gt { lo = gt + 1 } else { return pivot }
        }
        return v[lo]
    }

    /// A constant [rows, cols] 0/1 mask: 1 where j <= i + (cols - rows) and, when window > 0,
    /// also j > i + (cols - rows) - window (each query sees at most `window` keys). Negative
    /// rows or cols count as 0.
    public static func causalMask(rows: Int, cols: Int, window: Int) -> Tensor {
        let rows = max(rows, 0), cols = max(cols, 0)
        let out = Tensor(zeros: [rows, cols])
        let p = out.data
        for i in 0..<rows {
            let diag = i + cols - rows                      // last allowed column
            let last = min(cols - 1, diag)
            let first = window > 0 ? max(0, diag - window + 1) : 0
            if last >= first {
                for j in first...last { p[i * cols + j] = 1 }
            }
        }
        return out
    }
}
