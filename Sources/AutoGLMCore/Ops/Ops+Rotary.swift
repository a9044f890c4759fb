import Foundation

extension Ops {
    /// Rotary position embedding (RoPE) in the rotate-half convention of GPT-NeoX and Hugging
    /// Face's LLaMA: x is [..., T, D] (sequence, then head features; the leading dimensions are
    /// batch and heads, any number of them), D even, h = D / 2. For position p = t + offset of
    /// row t and i < h, with θ_i = base^(-2i / D) and angle a = p · θ_i:
    ///
    ///     out[..., t, i]     = x[..., t, i] · cos a − x[..., t, i + h] · sin a
    ///     out[..., t, i + h] = x[..., t, i + h] · cos a + x[..., t, i] · sin a
    ///
    /// (each pair (i, i + h) turned by the angle a). `positionOffset` is the position of row 0:
    /// the number of tokens already in the cache when decoding (T = 1), 0 for a whole sequence.
    ///
    /// The cos/sin table ([T, h] each) is computed once per call in Double (θ_i, the angle and
    /// its cosine and sine) and rounded to Float once, so each entry is the exact value rounded
    /// to float (up to Double's own rounding) at every position; the rotation itself is float32
    /// (two products and a sum per output: off the float64 rotation of the same x by a few ulps
    /// of the pair's larger |x|). Hugging Face's float32 table rounds θ_i and the angle first,
    /// which at position p costs up to about p · 2^-23 radians (2.4e-4 at p = 2048): the two
    /// agree to that. No [D, D] rotation matrix is formed; rows run in parallel. The backward
    /// is the inverse rotation (the same pairs turned by -a, the transpose of the forward's);
    /// when recorded, the table (T · D floats) is kept for it.
    /// Throws when x has fewer than 2 dimensions, D is odd, positionOffset is negative or the
    /// last position overflows, or base is not a finite number > 0.
    public static func rotary(_ x: Tensor, positionOffset: Int, base: Double) throws -> Tensor {
        guard x.ndim >= 2 else {
            throw TensorError("rotary: x must be [..., T, D] (at least 2-D), got \(x.shape)")
        }
        let t = x.shape[x.ndim - 2], d = x.shape[x.ndim - 1]
        guard d % 2 == 0 else {
            throw TensorError("rotary: the feature dim D of \(x.shape) must be even, got \(d)")
        }
        guard positionOffset >= 0 else {
            throw TensorError("rotary: positionOffset must be >= 0, got \(positionOffset)")
        }
        guard !positionOffset.addingReportingOverflow(t).overflow else {
            throw TensorError("rotary: positionOffset \(positionOffset) + T \(t) overflows")
        }
        guard base.isFinite, base > 0 else {
            throw TensorError("rotary: base must be a finite number > 0, got \(base)")
        }
        let out = Tensor(uninitialized: x.shape)
        if x.count == 0 { return out.recorded(from: [x]) { _ in } }
        let h = d / 2
        let (cosine, sine) = rotaryTable(positions: t, offset: positionOffset, half: h, base: base)
        rotatePairs(x.data, out.data, rows: x.count / d, positions: t, half: h,
                    cosine.data, sine.data, inverse: false, accumulate: false)
        return out.recorded(from: [x]) { g in
            let (dx, acc) = x.gradDestination()
            rotatePairs(g.data, dx, rows: x.count / d, positions: t, half: h,
                        cosine.data, sine.data, inverse: true, accumulate: acc)
        }
    }

    /// cos and sin of (offset + t) · base^(-2i / (2 · half)) for t < positions, i < half, as
    /// [positions, half] tensors: computed in Double, rounded to Float once.
    static func rotaryTable(positions: Int, offset: Int, half: Int, base: Double) -> (Tensor, Tensor) {
        let cosine = Tensor(uninitialized: [positions, half]), sine = Tensor(uninitialized: [positions, half])
        let theta = (0..<half).map { Foundation.pow(base, -2 * Double($0) / Double(2 * half)) }
        let pc = cosine.data, ps = sine.data
        // A cos/sin pair in Double costs about as much as rotating 16 floats.
        parallelRows(positions, rowCost: half * 16) { range in
            theta.withUnsafeBufferPointer { th in
                for t in range {
                    let p = Double(offset + t)
                    for i in 0..<half {
                        let a = p * th[i]
                        pc[t * half + i] = Float(Foundation.cos(a))
                        ps[t * half + i] = Float(Foundation.sin(a))
                    }
                }
            }
        }
        return (cosine, sine)
    }

    /// Turns each pair (i, i + half) of every row of `src` ([rows, 2 · half], row r at position
    /// r % positions) by the table's angle (by minus it when `inverse`) into `dst`, storing, or
    /// adding when `accumulate`. Rows run in parallel.
    static func rotatePairs(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, rows: Int,
                            positions: Int, half: Int, _ cosine: UnsafePointer<Float>, _ sine: UnsafePointer<Float>,
                            inverse: Bool, accumulate: Bool) {
        // The inverse rotation is the forward one with sin negated.
        let sign: Float = inverse ? -1 : 1
        parallelRows(rows, rowCost: 2 * half) { range in
            for r in range {
                let c = cosine + (r % positions) * half, s = sine + (r % positions) * half
                let x = src + r * 2 * half, y = dst + r * 2 * half
                if accumulate {
                    for i in 0..<half {
                        let x1 = x[i], x2 = x[i + half], sn = sign * s[i]
                        y[i] += x1 * c[i] - x2 * sn
                        y[i + half] += x2 * c[i] + x1 * sn
                    }
                } else {
                    for i in 0..<half {
                        let x1 = x[i], x2 = x[i + half], sn = sign * s[i]
                        y[i] = x1 * c[i] - x2 * sn
                        y[i + half] = x2 * c[i] + x1 * sn
                    }
                }
            }
        }
    }
}
