import AutoGLMCore
import Foundation

/// Generic checks of an attention component on random inputs.
enum AttentionConformance {
    static let batch = 2, heads = 4, seq = 9, dim = 8

    static func run(info: ComponentInfo, registry: PluginRegistry, parameters: [String: ParameterValue],
                    into report: inout ConformanceReport) {
        func make() throws -> AttentionInstance {
            try AttentionInstance(registry: registry, name: info.name, parameters: parameters, nHead: heads, headDim: dim,
                                  blockSize: 16, layer: 0, nLayer: 1)
        }
        report.record(info.name, "lifecycle twice") { try PluginValidator.lifecycleTwice(make) }
        report.record(info.name, "state round trip") { try PluginValidator.stateRoundTrip(make) }
        guard let attention = try? make() else { return }
        var rng = RandomGenerator(seed: 42)
        let kv = attention.kvHeads
        func input(_ h: Int) -> Tensor { .randn([batch, h, seq, dim], rng: &rng, requiresGrad: true) }
        let q = input(heads), k = input(kv), v = input(kv)
        report.record(info.name, "output shape and values") {
            let out = try attention.forward(q: q, k: k, v: v)
            guard out.shape == q.shape else { throw ConformanceFailure("output shape \(out.shape), expected \(q.shape)") }
            guard out.values.allSatisfy(\.isFinite) else { throw ConformanceFailure("output has NaN or Inf") }
            return "kv_heads \(kv), output \(out.shape)"
        }
        report.record(info.name, "causal (outputs up to t ignore inputs after t)") {
            try causality(attention, q, k, v)
        }
        report.record(info.name, "gradient check (central differences)") {
            try gradientCheck(attention, q, k, v, rng: &rng)
        }
        if attention.strided {
            report.record(info.name, "strided views (packed q/k/v, merged output) equal dense copies") {
                try stridedMatchesDense(attention, q, k, v, rng: &rng)
            }
        }
        if attention.decodes {
            report.record(info.name, "incremental decode (prefix, then one position at a time) equals forward") {
                try decodeMatchesForward(attention, q, k, v)
            }
        }
        report.record(info.name, "distance to dense causal attention (informational)") {
            let out = try Autograd.withNoGrad { try attention.forward(q: q, k: k, v: v) }
            let dense = try Autograd.withNoGrad { try denseAttention(q, k, v) }
            let diff = zip(out.values, dense.values).map { abs($0 - $1) }.max() ?? 0
            return String(format: "max |out - dense| = %.3g", diff)
        }
    }

    /// Reference: softmax(q kᵀ/√d, causal) v with key/value heads repeated for GQA.
    static func denseAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor) throws -> Tensor {
        let groups = q.shape[1] / k.shape[1]
        let kr = groups > 1 ? try Ops.repeatInterleave(k, dim: 1, times: groups) : k
        let vr = groups > 1 ? try Ops.repeatInterleave(v, dim: 1, times: groups) : v
        let scores = Ops.affine(try Ops.matmul(q, kr, transposeB: true), scale: 1 / Float(q.shape[3]).squareRoot(), shift: 0)
        return try Ops.matmul(Ops.softmax(scores, causal: true), vr)
    }

    /// For a component that sets `strided`: packs q, k, v into one [B, T, (H + 2 KV) D] buffer
    /// (as the model does), runs `forwardPacked`, and compares the output and the gradients
    /// (written in place into the packed buffer's) with the dense path on the same inputs.
    static func stridedMatchesDense(_ attention: AttentionInstance, _ q: Tensor, _ k: Tensor, _ v: Tensor,
                                    rng: inout RandomGenerator) throws -> String {
        let kv = k.shape[1], width = (heads + 2 * kv) * dim
        func merged(_ x: Tensor) throws -> Tensor {
            try Ops.reshape(try Ops.transpose(x, 1, 2), [batch, seq, x.shape[1] * dim])
        }
        let packedValues = try Autograd.withNoGrad { try Ops.concat([merged(q), merged(k), merged(v)], dim: 2).values }
        let h = Tensor(shape: [batch, seq, width], values: packedValues, requiresGrad: true)
        let weights = Tensor.randn([batch, seq, heads * dim], rng: &rng)
        let packed = try attention.forwardPacked(h, nHead: heads, headDim: dim)
        try Ops.sumAll(try Ops.mul(packed, weights)).backward()

        let dq = Tensor(shape: q.shape, values: q.values, requiresGrad: true)
        let dk = Tensor(shape: k.shape, values: k.values, requiresGrad: true)
        let dv = Tensor(shape: v.shape, values: v.values, requiresGrad: true)
        let dense = try merged(try attention.forward(q: dq, k: dk, v: dv))
        try Ops.sumAll(try Ops.mul(dense, weights)).backward()
        let denseGrad = try Ops.concat([merged(dq.grad!), merged(dk.grad!), merged(dv.grad!)], dim: 2).values

        let outDiff = zip(packed.values, dense.values).map { abs($0 - $1) }.max() ?? 0
        guard let packedGrad = h.grad?.values else { throw ConformanceFailure("no gradient reached the packed buffer") }
        let gradDiff = zip(packedGrad, denseGrad).map { abs($0 - $1) }.max() ?? 0
        guard outDiff <= 1e-5, gradDiff <= 1e-4 else {
            throw ConformanceFailure(String(format: "packed views differ from dense copies: output by %.3g, gradient by %.3g", outDiff, gradDiff))
        }
        return String(format: "max differences: output %.3g, gradient %.3g", outDiff, gradDiff)
    }

    /// Decodes the first `seq / 2` positions in one call and the rest one at a time against a
    /// cache whose unused rows hold a sentinel, and checks the outputs equal forward's and that
    /// no call wrote a cache row beyond its own positions.
    static func decodeMatchesForward(_ attention: AttentionInstance, _ q: Tensor, _ k: Tensor, _ v: Tensor) throws -> String {
        let capacity = seq + 3, sentinel: Float = 1234.5, kv = k.shape[1]
        let caches = (Tensor(zeros: [batch, kv, capacity, dim]), Tensor(zeros: [batch, kv, capacity, dim]))
        for c in [caches.0, caches.1] { c.data.update(repeating: sentinel, count: c.count) }
        let full = try Autograd.withNoGrad { try attention.forward(q: q, k: k, v: v) }
        var parts: [Tensor] = []
        var position = 0
        try Autograd.withNoGrad {
            for n in [seq / 2] + [Int](repeating: 1, count: seq - seq / 2) {
                func rows(_ t: Tensor) throws -> Tensor { try Ops.slice(t, dim: 2, start: position, length: n) }
                parts.append(try attention.decode(q: try rows(q), k: try rows(k), v: try rows(v), keyCache: caches.0,
                                                  valueCache: caches.1, position: position))
                position += n
                for c in [caches.0, caches.1] {
                    for r in 0..<(batch * kv) {
                        for t in position..<capacity where (0..<dim).contains(where: { c.data[(r * capacity + t) * dim + $0] != sentinel }) {
                            throw ConformanceFailure("decode at position \(position - n) (n = \(n)) wrote cache row \(t), beyond its positions")
                        }
                    }
                }
            }
        }
        let decoded = try Ops.concat(parts, dim: 2)
        let diff = zip(decoded.values, full.values).map { abs($0 - $1) }.max() ?? 0
        guard diff <= 1e-4, decoded.values.allSatisfy(\.isFinite) else {
            throw ConformanceFailure(String(format: "decoded outputs differ from forward's by %.3g", diff))
        }
        return String(format: "%d calls, max |decode - forward| = %.3g", parts.count, diff)
    }

    /// Changes every input at positions after `cut` and checks outputs up to `cut` are unchanged.
    static func causality(_ attention: AttentionInstance, _ q: Tensor, _ k: Tensor, _ v: Tensor) throws -> String {
        let cut = seq / 2
        func perturbed(_ t: Tensor) -> Tensor {
            let c = Tensor(shape: t.shape, values: t.values)
            let rows = t.count / (seq * dim)
            for r in 0..<rows { for s in (cut + 1)..<seq { for d in 0..<dim { c.data[(r * seq + s) * dim + d] += 3 } } }
            return c
        }
        let a = try Autograd.withNoGrad { try attention.forward(q: q, k: k, v: v) }
        let b = try Autograd.withNoGrad { try attention.forward(q: perturbed(q), k: perturbed(k), v: perturbed(v)) }
        var worst: Float = 0
        for r in 0..<(a.count / (seq * dim)) {
            for s in 0...cut { for d in 0..<dim { worst = max(worst, abs(a.data[(r * seq + s) * dim + d] - b.data[(r * seq + s) * dim + d])) } }
        }
        guard worst <= 1e-5 else { throw ConformanceFailure("output at position <= \(cut) changed by \(worst) when later inputs changed: not causal") }
        return String(format: "max change %.2g", worst)
    }

    /// Analytic gradients of sum(out ∘ R) against central differences on sampled entries.
    static func gradientCheck(_ attention: AttentionInstance, _ q: Tensor, _ k: Tensor, _ v: Tensor,
                              rng: inout RandomGenerator) throws -> String {
        let r = Tensor.randn(q.shape, rng: &rng)
        for t in [q, k, v] { t.grad = nil }
        try Ops.sumAll(try Ops.mul(try attention.forward(q: q, k: k, v: v), r)).backward()
        func objective() throws -> Double {
            let out = try Autograd.withNoGrad { try attention.forward(q: q, k: k, v: v) }
            return zip(out.values, r.values).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        var worst = 0.0
        for (name, t) in [("q", q), ("k", k), ("v", v)] {
            guard let grad = t.grad else { throw ConformanceFailure("no gradient reached \(name)") }
            for _ in 0..<8 {
                let i = rng.below(t.count), saved = t.data[i], eps: Float = 1e-2
                t.data[i] = saved + eps; let up = try objective()
                t.data[i] = saved - eps; let down = try objective()
                t.data[i] = saved
                let numeric = (up - down) / Double(2 * eps), analytic = Double(grad.data[i])
                let ratio = abs(numeric - analytic) / (2e-3 + 5e-2 * abs(numeric))
                worst = max(worst, ratio)
                if ratio > 1 {
                    throw ConformanceFailure("d/d\(name)[\(i)]: backward gives \(analytic), finite differences \(numeric)")
                }
            }
        }
        return String(format: "24 entries, worst error %.0f%% of tolerance", worst * 100)
    }
}
