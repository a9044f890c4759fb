import Foundation

extension Ops {
    /// The same elements under `shape` (at most one -1, inferred), sharing a's storage; the
    /// backward reshapes the gradient. Throws when the element counts differ, a dimension is
    /// negative (other than a single -1) or -1 cannot be inferred.
    public static func reshape(_ a: Tensor, _ shape: [Int]) throws -> Tensor {
        var shape = shape
        let inferred = shape.indices.filter { shape[$0] == -1 }
        guard inferred.count <= 1 else {
            throw TensorError("reshape: more than one -1 in \(shape)")
        }
        if let i = inferred.first {
            var rest = shape; rest[i] = 1
            try validateShape(rest, op: "reshape")
            let known = rest.reduce(1, *)
            guard known > 0, a.count % known == 0 else {
                throw TensorError("reshape: cannot reshape \(a.shape) (\(a.count) elements) into \(shape)")
            }
            shape[i] = a.count / known
        }
        try validateShape(shape, op: "reshape")
        guard shape.reduce(1, *) == a.count else {
            throw TensorError("reshape: cannot reshape \(a.shape) (\(a.count) elements) into \(shape)")
        }
        let out = Tensor(sharing: a.storage, shape: shape)
        return out.recorded(from: [a]) { g in
            let (da, acc) = a.gradDestination()
            if acc { Kernels.addInPlace(da, g.data, a.count) } else { da.update(from: g.data, count: a.count) }
        }
    }

    /// Copies a [pre, n0, mid, n1, post] block layout into [pre, n1, mid, n0, post]
    /// (or adds into `dst` when `accumulate`).
    static func swapAxes(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                         pre: Int, n0: Int, mid: Int, n1: Int, post: Int, accumulate: Bool) {
        // Source strides.
        let s1 = post, sm = n1 * post, s0 = mid * n1 * post, sp = n0 * mid * n1 * post
        // Destination strides ([pre, n1, mid, n0, post]).
        let t0 = post, tm = n0 * post, t1 = mid * n0 * post
        parallelRows(pre * n1, rowCost: mid * n0 * post) { range in
            for pr in range {
                let p = pr / n1, j = pr % n1
                for m in 0..<mid {
                    let sBase = src + p * sp + m * sm + j * s1
                    let dBase = dst + p * sp + j * t1 + m * tm
                    if post == 1 {
                        if accumulate { for i in 0..<n0 { dBase[i * t0] += sBase[i * s0] } } else { for i in 0..<n0 { dBase[i * t0] = sBase[i * s0] } }
                    } else {
                        for i in 0..<n0 {
                            let s = sBase + i * s0, d = dBase + i * t0
                            if accumulate { Kernels.addInPlace(d, s, post) } else { d.update(from: s, count: post) }
                        }
                    }
                }
            }
        }
    }

    /// Swaps dimensions d0 and d1 (negative counts from the end), returning a contiguous copy;
    /// the backward swaps them back. Throws when a dim is out of range.
    public static func transpose(_ a: Tensor, _ d0: Int, _ d1: Int) throws -> Tensor {
        let x = try normalizeDim(d0, ndim: a.ndim, op: "transpose")
        let y = try normalizeDim(d1, ndim: a.ndim, op: "transpose")
        let lo = min(x, y), hi = Swift.max(x, y)
        var shape = a.shape
        shape.swapAt(lo, hi)
        let out = Tensor(uninitialized: shape)  // every element is written below
        if out.count == 0 { return out.recorded(from: [a]) { _ in } }
        if lo == hi {
            out.data.update(from: a.data, count: a.count)
            return out.recorded(from: [a]) { g in a.accumulateGrad(from: g.data) }
        }
        let pre = a.shape[..<lo].reduce(1, *), n0 = a.shape[lo]
        let mid = a.shape[(lo + 1)..<hi].reduce(1, *), n1 = a.shape[hi]
        let post = a.shape[(hi + 1)...].reduce(1, *)
        swapAxes(a.data, out.data, pre: pre, n0: n0, mid: mid, n1: n1, post: post, accumulate: false)
        return out.recorded(from: [a]) { g in
            let (da, acc) = a.gradDestination()
            swapAxes(g.data, da, pre: pre, n0: n1, mid: mid, n1: n0, post: post, accumulate: acc)
        }
    }

    /// The `length` entries of dimension `dim` starting at `start` (PyTorch `narrow`; a negative
    /// start counts from the end), as a contiguous copy. Throws when dim or the range is invalid.
    public static func slice(_ a: Tensor, dim: Int, start: Int, length: Int) throws -> Tensor {
        let d = try normalizeDim(dim, ndim: a.ndim, op: "slice")
        let size = a.shape[d]
        let s = start < 0 ? start + size : start
        guard s >= 0, length >= 0, s <= size, length <= size - s else {
            throw TensorError("slice: start \(start) length \(length) out of range for dim \(dim) of size \(size) in \(a.shape)")
        }
        let (outer, _, inner) = split(a.shape, at: d)
        var shape = a.shape
        shape[d] = length
        let out = Tensor(uninitialized: shape)
        let block = length * inner, srcRow = size * inner, off = s * inner
        let px = a.data, po = out.data
        parallelRows(outer, rowCost: block) { range in
            for o in range { (po + o * block).update(from: px + o * srcRow + off, count: block) }
        }
        return out.recorded(from: [a]) { g in
            let da = a.gradBuffer(), pg = g.data
            parallelRows(outer, rowCost: block) { range in
                for o in range { Kernels.addInPlace(da + o * srcRow + off, pg + o * block, block) }
            }
        }
    }

    /// Joins `parts` along `dim` (negative counts from the end); all parts must have the same
    /// rank and the same extents outside `dim`. Throws on an empty list, scalars or mismatched
    /// shapes.
    public static func concat(_ parts: [Tensor], dim: Int) throws -> Tensor {
        guard let first = parts.first else { throw TensorError("concat: no tensors to concatenate") }
        guard first.ndim >= 1 else { throw TensorError("concat: cannot concatenate 0-D tensors") }
        let d = try normalizeDim(dim, ndim: first.ndim, op: "concat")
        var total = 0
        for (i, p) in parts.enumerated() {
            var same = p.ndim == first.ndim
            if same {
                for k in 0..<p.ndim where k != d && p.shape[k] != first.shape[k] { same = false }
            }
            guard same else {
                throw TensorError("concat: part \(i) has shape \(p.shape), incompatible with \(first.shape) along dim \(dim)")
            }
            let (sum, overflow) = total.addingReportingOverflow(p.shape[d])
            guard !overflow else { throw TensorError("concat: dim \(dim) too large") }
            total = sum
        }
        let (outer, _, inner) = split(first.shape, at: d)
        var shape = first.shape
        shape[d] = total
        try validateShape(shape, op: "concat")
        let out = Tensor(uninitialized: shape)
        let outRow = total * inner
        let po = out.data
        var offsets: [Int] = []
        var off = 0
        for p in parts { offsets.append(off); off += p.shape[d] * inner }
        parallelRows(outer, rowCost: outRow) { range in
            for o in range {
                for (i, p) in parts.enumerated() {
                    let block = p.shape[d] * inner
                    (po + o * outRow + offsets[i]).update(from: p.data + o * block, count: block)
                }
            }
        }
        return out.recorded(from: parts) { g in
            let pg = g.data
            for (i, p) in parts.enumerated() where p.requiresGrad {
                // A tensor passed twice accumulates its second block (its gradient exists by then).
                let block = p.shape[d] * inner, o0 = offsets[i]
                let (dp, acc) = p.gradDestination()
                parallelRows(outer, rowCost: block) { range in
                    for o in range {
                        let src = pg + o * outRow + o0
                        if acc { Kernels.addInPlace(dp + o * block, src, block) } else { (dp + o * block).update(from: src, count: block) }
                    }
                }
            }
        }
    }

    /// Repeats each slice along `dim` `times` times consecutively ([B, kv, T, D] with dim 1 →
    /// [B, kv·times, T, D], slice j at positions j·times ..< (j+1)·times); the backward sums the
    /// copies. Throws when dim is out of range or times < 0.
    public static func repeatInterleave(_ a: Tensor, dim: Int, times: Int) throws -> Tensor {
        let d = try normalizeDim(dim, ndim: a.ndim, op: "repeatInterleave")
        guard times >= 0 else { throw TensorError("repeatInterleave: times must be >= 0, got \(times)") }
        let (outer, n, inner) = split(a.shape, at: d)
        let (product, overflow) = a.shape[d].multipliedReportingOverflow(by: times)
        guard !overflow else { throw TensorError("repeatInterleave: \(a.shape) repeated \(times) times is too large") }
        var shape = a.shape
        shape[d] = product
        try validateShape(shape, op: "repeatInterleave")
        let out = Tensor(uninitialized: shape)
        let px = a.data, po = out.data
        parallelRows(outer * n, rowCost: inner * times) { range in
            for row in range {
                let src = px + row * inner, dst = po + row * times * inner
                for r in 0..<times { (dst + r * inner).update(from: src, count: inner) }
            }
        }
        return out.recorded(from: [a]) { g in
            let da = a.gradBuffer(), pg = g.data
            parallelRows(outer * n, rowCost: inner * times) { range in
                for row in range {
                    let dst = da + row * inner, src = pg + row * times * inner
                    for r in 0..<times { Kernels.addInPlace(dst, src + r * inner, inner) }
                }
            }
        }
    }
}
