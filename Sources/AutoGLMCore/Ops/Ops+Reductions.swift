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
                    for j in 1..<max(n, 1) {
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
                let acc = UnsafeMutablePointer<Float>.allocate(capacity: max(inner, 1))
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
