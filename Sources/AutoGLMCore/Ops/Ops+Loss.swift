import Foundation

extension Ops {
    /// Mean negative log-likelihood of `targets` under softmax(`logits`) as a scalar (shape []):
    /// logits are [N, V] (or [..., V], flattened to N rows) and targets hold N class indices.
    /// Log-softmax is fused into forward and backward (dlogits = (softmax - onehot) / N · g).
    /// Throws when logits are 0-D, V or N is 0, the target count differs from N, or a target is
    /// outside 0..<V.
    public static func crossEntropy(_ logits: Tensor, targets: [Int32]) throws -> Tensor {
        guard logits.ndim >= 1 else { throw TensorError("crossEntropy: logits must have at least 1 dimension, got []") }
        let v = logits.shape[logits.ndim - 1]
        guard v > 0 else { throw TensorError("crossEntropy: logits \(logits.shape) have no classes") }
        let n = logits.count / v
        guard n > 0 else { throw TensorError("crossEntropy: logits \(logits.shape) have no rows") }
        guard targets.count == n else {
            throw TensorError("crossEntropy: \(targets.count) targets for \(n) rows of logits \(logits.shape)")
        }
        for (i, t) in targets.enumerated() where t < 0 || Int(t) >= v {
            throw TensorError("crossEntropy: target \(t) at row \(i) out of range 0..<\(v)")
        }
        let lse = TensorStorage(count: n)        // log Σ e^x per row
        let losses = TensorStorage(count: n)
        let px = logits.data, pl = lse.pointer, pr = losses.pointer
        targets.withUnsafeBufferPointer { tp in
            parallelRows(n, rowCost: v * 2) { range in
                for r in range {
                    let x = px + r * v
                    let m = Kernels.maxElement(x, v)
                    let l = m == -.infinity ? -Float.infinity : m + Foundation.log(Kernels.expShiftedSum(x, shift: m, v))
                    pl[r] = l
                    pr[r] = l - x[Int(tp[r])]
                }
            }
        }
        let out = Tensor(zeros: [])
        out.data[0] = Float(Kernels.sumElementsDouble(pr, n) / Double(n))
        return out.recorded(from: [logits]) { g in
            let (dx, acc) = logits.gradDestination()
            let scale = g.data[0] / Float(n), px = logits.data, pl = lse.pointer
            targets.withUnsafeBufferPointer { tp in
                parallelRows(n, rowCost: v * 2) { range in
                    let e = UnsafeMutablePointer<Float>.allocate(capacity: v)
                    defer { e.deallocate() }
                    for r in range {
                        let x = px + r * v, d = dx + r * v
                        _ = Kernels.expShiftedSum(x, shift: pl[r], e, v)   // softmax row
                        if acc {
                            for j in 0..<v { d[j] += e[j] * scale }
                        } else {
                            for j in 0..<v { d[j] = e[j] * scale }
                        }
                        d[Int(tp[r])] -= scale
                    }
                }
            }
        }
    }
}
