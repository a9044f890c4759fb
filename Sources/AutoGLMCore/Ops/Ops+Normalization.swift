import Foundation

extension Ops {
    /// Layer normalisation over the last dimension C: (a - mean) / sqrt(var + eps) · weight + bias
    /// (biased variance, as PyTorch). `weight` and `bias` are optional [C] tensors. Forward and
    /// backward are fused row kernels; the per-row mean and 1/std are saved for the backward.
    /// Throws when a is a scalar or weight/bias are not [C].
    public static func layerNorm(_ a: Tensor, weight: Tensor?, bias: Tensor?, eps: Float) throws -> Tensor {
        guard a.ndim >= 1 else { throw TensorError("layerNorm: needs at least 1 dimension, got []") }
        let c = a.shape[a.ndim - 1]
        if let weight, weight.shape != [c] {
            throw TensorError("layerNorm: weight shape \(weight.shape) does not match [\(c)] for input \(a.shape)")
        }
        if let bias, bias.shape != [c] {
            throw TensorError("layerNorm: bias shape \(bias.shape) does not match [\(c)] for input \(a.shape)")
        }
        let out = Tensor(uninitialized: a.shape)
        guard c > 0, a.count > 0 else { return out }
        let nRows = a.count / c
        let stats = TensorStorage(count: 2 * nRows)  // mean, rstd per row
        let px = a.data, py = out.data, ps = stats.pointer
        let pw = weight?.data, pb = bias?.data
        let invC = 1 / Float(c)
        parallelRows(nRows, rowCost: c * 3) { range in
            for r in range {
                let x = px + r * c, y = py + r * c
                let mean = Kernels.sumElements(x, c) * invC
                var acc = Kernels.Vec(repeating: 0)
                let mv = Kernels.Vec(repeating: mean)
                var j = 0
                while j + 8 <= c { let d = Kernels.load(x + j) - mv; acc += d * d; j += 8 }
                var v = acc.sum()
                while j < c { let d = x[j] - mean; v += d * d; j += 1 }
                let rstd = 1 / (v * invC + eps).squareRoot()
                ps[2 * r] = mean; ps[2 * r + 1] = rstd
                switch (pw, pb) {
                case let (w?, b?): for j in 0..<c { y[j] = (x[j] - mean) * rstd * w[j] + b[j] }
                case let (w?, nil): for j in 0..<c { y[j] = (x[j] - mean) * rstd * w[j] }
                case let (nil, b?): for j in 0..<c { y[j] = (x[j] - mean) * rstd + b[j] }
                case (nil, nil): for j in 0..<c { y[j] = (x[j] - mean) * rstd }
                }
            }
        }
        var inputs = [a]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        return out.recorded(from: inputs) { g in
            let pg = g.data, px = a.data, ps = stats.pointer, pw = weight?.data
            let dest = a.requiresGrad ? a.gradDestination() : nil
            let dx = dest?.pointer, acc = dest?.accumulate ?? true
            let needW = weight?.requiresGrad ?? false, needB = bias?.requiresGrad ?? false
            // Row chunks, each with private dW/dB partial sums, reduced afterwards.
            let chunks = Swift.max(1, min(Kernels.threads, nRows * c / elementwiseGrain))
            let perChunk = (nRows + chunks - 1) / chunks
            let partials = (needW || needB) ? TensorStorage(count: chunks * 2 * c) : nil
            let pp = partials?.pointer
            Kernels.parallelFor(chunks, minChunk: 1) { chunkRange in
                let xhat = UnsafeMutablePointer<Float>.allocate(capacity: c)
                let dxhat = UnsafeMutablePointer<Float>.allocate(capacity: c)
                defer { xhat.deallocate(); dxhat.deallocate() }
                for chunk in chunkRange {
                    let dwp = pp.map { $0 + chunk * 2 * c }, dbp = dwp.map { $0 + c }
                    for r in min(nRows, chunk * perChunk)..<min(nRows, (chunk + 1) * perChunk) {
                        let x = px + r * c, gr = pg + r * c
                        let mean = ps[2 * r], rstd = ps[2 * r + 1]
                        for j in 0..<c { xhat[j] = (x[j] - mean) * rstd }
                        if needW, let dwp { for j in 0..<c { dwp[j] += gr[j] * xhat[j] } }
                        if needB, let dbp { for j in 0..<c { dbp[j] += gr[j] } }
                        guard let dx else { continue }
                        if let pw { for j in 0..<c { dxhat[j] = gr[j] * pw[j] } } else { dxhat.update(from: gr, count: c) }
                        // dx = rstd · (dxhat - mean(dxhat) - xhat · mean(dxhat · xhat))
                        let m1 = Kernels.sumElements(dxhat, c) * invC
                        let m2 = Kernels.dotProduct(dxhat, xhat, c) * invC
                        let d = dx + r * c
                        if acc {
                            for j in 0..<c { d[j] += rstd * (dxhat[j] - m1 - xhat[j] * m2) }
                        } else {
                            for j in 0..<c { d[j] = rstd * (dxhat[j] - m1 - xhat[j] * m2) }
                        }
                    }
                }
            }
            if let pp {
                let dw = needW ? weight!.gradBuffer() : nil, db = needB ? bias!.gradBuffer() : nil
                for chunk in 0..<chunks {
                    if let dw { Kernels.addInPlace(dw, pp + chunk * 2 * c, c) }
                    if let db { Kernels.addInPlace(db, pp + chunk * 2 * c + c, c) }
                }
            }
        }
    }
}
