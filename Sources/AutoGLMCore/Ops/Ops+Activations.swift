import Foundation

extension Ops {
    /// ELU with alpha = 1: a for a > 0, e^a - 1 otherwise.
    public static func elu(_ a: Tensor) -> Tensor {
        let out = Tensor(uninitialized: a.shape)
        let src = a.data, dst = out.data
        Kernels.parallelFor(a.count, minChunk: elementwiseGrain) { r in
            // e^x for the whole chunk (vectorised), then select.
            Kernels.expVector(src + r.lowerBound, dst + r.lowerBound, r.count)
            for i in r { dst[i] = src[i] > 0 ? src[i] : dst[i] - 1 }
        }
        let y = out.storage
        return out.recorded(from: [a]) { g in
            let (da, acc) = a.gradDestination(), pg = g.data, px = a.data, py = y.pointer
            // d/dx = 1 for x > 0, e^x = y + 1 otherwise.
            emitGrad(da, accumulate: acc, a.count) { px[$0] > 0 ? pg[$0] : pg[$0] * (py[$0] + 1) }
        }
    }

    /// GELU, exact erf form: a · Φ(a) = 0.5 · a · (1 + erf(a / √2)) (PyTorch's default `gelu`),
    /// vectorised (Φ to about 3e-7 relative error, within float rounding of the `erff` form).
    /// When recorded for a backward it also keeps GELU'(a), a tensor of a's size, until then.
    public static func gelu(_ a: Tensor) -> Tensor {
        let out = Tensor(uninitialized: a.shape)
        let src = a.data, dst = out.data
        guard Autograd.isRecording && a.requiresGrad else {
            Kernels.parallelFor(a.count, minChunk: elementwiseGrain / 4) { r in
                Kernels.geluVector(src + r.lowerBound, dst + r.lowerBound, r.count)
            }
            return out
        }
        // The slope GELU'(a) comes almost free with the value (same Φ and exponential), and
        // turns the backward into one multiply instead of a second evaluation.
        let slope = Tensor(uninitialized: a.shape), ps = slope.data
        Kernels.parallelFor(a.count, minChunk: elementwiseGrain / 4) { r in
            let lo = r.lowerBound
            Kernels.geluWithSlopeVector(src + lo, dst + lo, ps + lo, r.count)
        }
        return out.recorded(from: [a]) { g in
            let (da, acc) = a.gradDestination(), pg = g.data
            emitGrad(da, accumulate: acc, a.count) { pg[$0] * ps[$0] }
            withExtendedLifetime(slope) {}
        }
    }
}
