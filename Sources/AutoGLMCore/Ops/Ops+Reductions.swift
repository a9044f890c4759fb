import Foundation

extension Ops {
    /// Sum over dimension `dim` (negative counts from the end); `keepDim` keeps it with size 1.
    /// A scalar accepts dim 0 or -1 and is returned unchanged. Throws when dim is out of range.
    public static func sum(_ a: Tensor, dim: Int, keepDim: Bool) throws -> Tensor {
        if a.ndim == 0 {
            guard dim == 0 || dim == -1 else { throw TensorError("sum: dim \(dim) out of range for a 0-D tensor") }
            return affine(a, scale: 1, shift: 0)
        }
        let d = try normalizeDim(dim, ndim: a.ndim, op: "sum")
        let (outer, n, inner) = split(a.shape, at: d)
        var shape = a.shape
        if keepDim { shape[d] = 1 } else { shape.remove(at: d) }
        let out = n > 0 ? Tensor(uninitialized: shape) : Tensor(zeros: shape)
        let px = a.data, po = out.data
        if n == 0 {
            // Empty sum: zeros.
        } else if inner == 1 {
            parallelRows(outer, rowCost: n) { range in
                for o in range { po[o] = Kernels.sumElements(px + o * n, n) }
            }
        } else {
            parallelRows(outer, rowCost: n * inner) { range in
                for o in range {
                    let dst = po + o * inner
                    dst.update(from: px + o * n * inner, count: inner)
                    for j in 1..<n { Kernels.addInPlace(dst, px + (o * n + j) * inner, inner) }
                }
            }
        }
        return out.recorded(from: [a]) { g in
            let (da, acc) = a.gradDestination(), pg = g.data
            parallelRows(outer, rowCost: n * inner) { range in
                for o in range {
                    let src = pg + o * inner
                    for j in 0..<n {
                        let d = da + (o * n + j) * inner
                        if acc { Kernels.addInPlace(d, src, inner) } else { d.update(from: src, count: inner) }
                    }
                }
            }
        }
    }

    /// The maximum over dimension `dim` (negative counts from the end): the values of PyTorch's
    /// `max(dim, keepdim)`; `keepDim` keeps the dimension with size 1. The gradient of each
    /// result goes to one element of its slice, the first maximal one (ties broken toward the
    /// lower index, PyTorch's `max(dim)` indices); the others get 0. A slice holding NaN has the
    /// maximum NaN, and its first NaN gets the gradient (NaN propagates, as in PyTorch). A
    /// scalar accepts dim 0 or -1 and is returned unchanged. Throws when dim is out of range or
    /// has size 0 (an empty slice has no maximum).
    public static func max(_ a: Tensor, dim: Int, keepDim: Bool) throws -> Tensor {
        if a.ndim == 0 {
            guard dim == 0 || dim == -1 else { throw TensorError("max: dim \(dim) out of range for a 0-D tensor") }
            return affine(a, scale: 1, shift: 0)
        }
        let d = try normalizeDim(dim, ndim: a.ndim, op: "max")
        let (outer, n, inner) = split(a.shape, at: d)
        guard n > 0 else { throw TensorError("max: dim \(dim) of \(a.shape) is empty: no maximum to take") }
        var shape = a.shape
        if keepDim { shape[d] = 1 } else { shape.remove(at: d) }
        let out = Tensor(uninitialized: shape)
        let px = a.data, po = out.data
        // v replaces the best so far when larger, or when it is the first NaN.
        @inline(__always) func beats(_ v: Float, _ best: Float) -> Bool { v > best || (v.isNaN && !best.isNaN) }
        // argmax[o · inner + i]: the index along dim that out[o · inner + i] came from.
        let argmax = [Int](unsafeUninitializedCapacity: outer * inner) { buffer, initialized in
            initialized = outer * inner
            guard let pi = buffer.baseAddress else { return }  // no slices
            forEachSliceRun(outer: outer, n: n, inner: inner) { o, lanes in
                let x = px + o * n * inner, best = po + o * inner, at = pi + o * inner
                if inner == 1 {
                    var m = x[0], k = 0
                    for j in 1..<n where beats(x[j], m) { m = x[j]; k = j }
                    best[0] = m; at[0] = k
                    return
                }
                for i in lanes { best[i] = x[i]; at[i] = 0 }
                for j in 1..<n {
                    let row = x + j * inner
                    for i in lanes where beats(row[i], best[i]) { best[i] = row[i]; at[i] = j }
                }
            }
        }
        return out.recorded(from: [a]) { g in
            let (da, acc) = a.gradDestination(), pg = g.data
            argmax.withUnsafeBufferPointer { at in
                forEachSliceRun(outer: outer, n: n, inner: inner) { o, lanes in
                    let dst = da + o * n * inner
                    if !acc {
                        for j in 0..<n { (dst + j * inner + lanes.lowerBound).update(repeating: 0, count: lanes.count) }
                    }
                    for i in lanes { dst[at[o * inner + i] * inner + i] += pg[o * inner + i] }
                }
            }
        }
    }

    /// Calls `body(o, lanes)` for runs of consecutive slices (o, i) of an [outer, n, inner]
    /// layout, i in `lanes`, covering every slice once; runs go to the workers in parallel when
    /// the slices hold enough elements (a run never crosses o, so it reads rows of the layout).
    static func forEachSliceRun(outer: Int, n: Int, inner: Int, _ body: (Int, Range<Int>) -> Void) {
        Kernels.parallelFor(outer * inner, minChunk: Swift.max(1, elementwiseGrain / Swift.max(n, 1))) { range in
            var s = range.lowerBound
            while s < range.upperBound {
                let o = s / inner, i0 = s % inner, i1 = min(inner, i0 + range.upperBound - s)
                body(o, i0..<i1)
                s += i1 - i0
            }
        }
    }

    /// Sum of all elements as a scalar (shape []), accumulated in Double.
    public static func sumAll(_ a: Tensor) -> Tensor {
        let out = Tensor(zeros: [])
        out.data[0] = Float(Kernels.sumElementsDouble(a.data, a.count))
        return out.recorded(from: [a]) { g in
            let (da, acc) = a.gradDestination(), gv = g.data[0]
            emitGrad(da, accumulate: acc, a.count) { _ in gv }
        }
    }

    /// Mean of all elements as a scalar (shape []), accumulated in Double; NaN for an empty tensor.
    public static func mean(_ a: Tensor) -> Tensor {
        let out = Tensor(zeros: [])
        let n = a.count
        out.data[0] = n == 0 ? .nan : Float(Kernels.sumElementsDouble(a.data, n) / Double(n))
        return out.recorded(from: [a]) { g in
            guard n > 0 else { return }
            let (da, acc) = a.gradDestination(), gv = g.data[0] / Float(n)
            emitGrad(da, accumulate: acc, n) { _ in gv }
        }
    }

    /// Inclusive cumulative sum along `dim` (negative counts from the end). A scalar accepts dim 0
    /// or -1 and is returned unchanged. Throws when dim is out of range.
    public static func cumsum(_ a: Tensor, dim: Int) throws -> Tensor {
        if a.ndim == 0 {
            guard dim == 0 || dim == -1 else { throw TensorError("cumsum: dim \(dim) out of range for a 0-D tensor") }
            return affine(a, scale: 1, shift: 0)
        }
        let d = try normalizeDim(dim, ndim: a.ndim, op: "cumsum")
        let (outer, n, inner) = split(a.shape, at: d)
        let out = Tensor(uninitialized: a.shape)
        let px = a.data, po = out.data
        parallelRows(outer, rowCost: n * inner) { range in
            for o in range {
                let base = o * n * inner
                if inner == 1 {
                    var s: Float = 0
                    for j in 0..<n { s += px[base + j]; po[base + j] = s }
                } else if n > 0 {
                    (po + base).update(from: px + base, count: inner)
                    for j in 1..<Swift.max(n, 1) {
                        let prev = po + base + (j - 1) * inner, cur = po + base + j * inner, x = px + base + j * inner
                        for i in 0..<inner { cur[i] = prev[i] + x[i] }
                    }
                }
            }
        }
        return out.recorded(from: [a]) { g in
            // Reverse cumulative sum of g along dim.
            let (da, accumulate) = a.gradDestination(), pg = g.data
            parallelRows(outer, rowCost: n * inner) { range in
                let acc = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(inner, 1))
                defer { acc.deallocate() }
                for o in range {
                    let base = o * n * inner
                    acc.update(repeating: 0, count: inner)
                    for j in stride(from: n - 1, through: 0, by: -1) {
                        let gj = pg + base + j * inner, dj = da + base + j * inner
                        if accumulate {
                            for i in 0..<inner { acc[i] += gj[i]; dj[i] += acc[i] }
                        } else {
                            for i in 0..<inner { acc[i] += gj[i]; dj[i] = acc[i] }
                        }
                    }
                }
            }
        }
    }
}
