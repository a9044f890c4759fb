import Foundation

extension Ops {
    /// Softmax over the last dimension, computed stably (the row maximum is subtracted).
    ///
    /// With `causal`, the last two dimensions are [rows, cols] and entry (i, j) takes part iff
    /// j <= i + (cols - rows) (so a square matrix keeps its lower triangle); other entries get
    /// probability 0. A row with no allowed entry, or whose allowed entries are all -inf, is all
    /// zeros (never NaN); -inf entries get probability 0 and zero gradient.
    public static func softmax(_ a: Tensor, causal: Bool = false) -> Tensor {
        let out = Tensor(uninitialized: a.shape)
        let cols = a.ndim == 0 ? 1 : a.shape[a.ndim - 1]
        let rows = a.ndim >= 2 ? a.shape[a.ndim - 2] : 1
        guard cols > 0, a.count > 0 else { return out.recorded(from: [a]) { _ in } }
        let nRows = a.count / cols
        let offset = cols - rows
        let px = a.data, py = out.data
        // Number of leading columns that take part in row r.
        @inline(__always) func allowed(_ r: Int) -> Int {
            guard causal else { return cols }
            return min(cols, Swift.max(0, r % Swift.max(rows, 1) + offset + 1))
        }
        parallelRows(nRows, rowCost: cols * 4) { range in
            for r in range {
                let x = px + r * cols, y = py + r * cols
                let n = allowed(r)
                let m = Kernels.maxElement(x, n)
                guard n > 0, m > -.infinity else {
                    y.update(repeating: 0, count: cols)  // no allowed finite entry: all zeros
                    continue
                }
                if n < cols { (y + n).update(repeating: 0, count: cols - n) }
                let s = Kernels.expShiftedSum(x, shift: m, y, n)
                let inv = 1 / s
                for j in 0..<n { y[j] *= inv }
            }
        }
        let ys = out.storage
        return out.recorded(from: [a]) { g in
            let (da, acc) = a.gradDestination(), pg = g.data, py = ys.pointer
            // dx = y ⊙ (g - Σ g·y), over the allowed prefix (0 elsewhere, where y is 0).
            parallelRows(nRows, rowCost: cols * 2) { range in
                for r in range {
                    let y = py + r * cols, gr = pg + r * cols, d = da + r * cols
                    let n = allowed(r)
                    let dot = Kernels.dotProduct(gr, y, n)
                    if acc {
                        for j in 0..<n { d[j] += y[j] * (gr[j] - dot) }
                    } else {
                        for j in 0..<n { d[j] = y[j] * (gr[j] - dot) }
                        if n < cols { (d + n).update(repeating: 0, count: cols - n) }
                    }
                }
            }
        }
    }
}
