import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// The bundled plugins against their references: attention vs naive float64, AdamW vs torch's
/// equations, perplexity vs a hand computation and batch-split invariance.
final class BundledPluginTests: XCTestCase {
    private static let registry = PluginBuilder.bundledRegistry()

    private func random(_ n: Int, _ rng: inout RandomGenerator, scale: Double = 1) -> [Float] {
        (0..<n).map { _ in Float(rng.normal() * scale) }
    }

    func testCausalDenseMatchesFloat64ReferenceForwardAndBackward() throws {
        for (batch, heads, seq, dim) in [(2, 3, 5, 4), (1, 2, 7, 8), (1, 1, 1, 3)] {
            var rng = RandomGenerator(seed: UInt64(seq))
            let shape = [batch, heads, seq, dim], n = shape.reduce(1, *)
            let qv = random(n, &rng), kv = random(n, &rng), vv = random(n, &rng), r = random(n, &rng)
            let q = Tensor(shape: shape, values: qv, requiresGrad: true)
            let k = Tensor(shape: shape, values: kv, requiresGrad: true)
            let v = Tensor(shape: shape, values: vv, requiresGrad: true)
            let attn = try AttentionInstance(registry: Self.registry, name: "causal_dense", parameters: [:],
                                             nHead: heads, headDim: dim, blockSize: seq, layer: 0, nLayer: 1)
            let out = try attn.forward(q: q, k: k, v: v)
            try Ops.sumAll(try Ops.mul(out, Tensor(shape: shape, values: r))).backward()
            let ref = ReferenceAttention(batch: batch, heads: heads, kvHeads: heads, seq: seq, dim: dim)
                .run(q: qv.map(Double.init), k: kv.map(Double.init), v: vv.map(Double.init), dOut: r.map(Double.init))
            XCTAssertLessThanOrEqual(toleranceRatio(out.values, ref.out), 1, "forward seq \(seq)")
            XCTAssertLessThanOrEqual(toleranceRatio(q.grad!.values, ref.dq), 1, "dq seq \(seq)")
            XCTAssertLessThanOrEqual(toleranceRatio(k.grad!.values, ref.dk), 1, "dk seq \(seq)")
            XCTAssertLessThanOrEqual(toleranceRatio(v.grad!.values, ref.dv), 1, "dv seq \(seq)")
        }
    }

    /// torch.optim.AdamW's update, in Double, for one tensor.
    private struct AdamWReference {
        var m: [Double], v: [Double], vmax: [Double]
        let beta1: Double, beta2: Double, eps: Double, wd: Double, amsgrad: Bool

        mutating func step(_ p: inout [Double], _ g: [Double], lr: Double, t: Int, decay: Bool) {
            let bc1 = 1 - pow(beta1, Double(t)), bc2 = 1 - pow(beta2, Double(t))
            for i in p.indices {
                if decay { p[i] *= 1 - lr * wd }
                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                vmax[i] = max(vmax[i], v[i])
                let denom = (amsgrad ? vmax[i] : v[i]).squareRoot() / bc2.squareRoot() + eps
                p[i] -= lr / bc1 * m[i] / denom
            }
        }
    }

    func testAdamWFollowsTorchEquations() throws {
        for amsgrad in [false, true] {
            var rng = RandomGenerator(seed: 7)
            let w = Tensor(shape: [2, 3], values: random(6, &rng), requiresGrad: true)
            w.name = "w"
            let b = Tensor(shape: [3], values: random(3, &rng), requiresGrad: true)
            b.name = "b"
            let params: [String: ParameterValue] = ["betas": .list([0.9, 0.99]), "eps": .number(1e-8),
                                                    "weight_decay": .number(0.1), "amsgrad": .number(amsgrad ? 1 : 0)]
            let opt = try OptimizerInstance(registry: Self.registry, name: "adamw", parameters: params, modelParameters: [w, b])
            var refW = w.values.map(Double.init), refB = b.values.map(Double.init)
            func ref(_ n: Int) -> AdamWReference {
                AdamWReference(m: .init(repeating: 0, count: n), v: .init(repeating: 0, count: n), vmax: .init(repeating: 0, count: n),
                               beta1: 0.9, beta2: 0.99, eps: 1e-8, wd: 0.1, amsgrad: amsgrad)
            }
            var rw = ref(6), rb = ref(3)
            for t in 1...5 {
                let gw = random(6, &rng), gb = random(3, &rng, scale: t == 3 ? 0.01 : 1)
                w.grad = Tensor(shape: [2, 3], values: gw)
                b.grad = Tensor(shape: [3], values: gb)
                let lr = 1e-2 * Double(t)
                try opt.step(lr: lr, step: t)
                rw.step(&refW, gw.map(Double.init), lr: lr, t: t, decay: true)
                rb.step(&refB, gb.map(Double.init), lr: lr, t: t, decay: false)
                XCTAssertLessThanOrEqual(toleranceRatio(w.values, refW, atol: 1e-6, rtol: 1e-5), 1, "w step \(t) amsgrad \(amsgrad)")
                XCTAssertLessThanOrEqual(toleranceRatio(b.values, refB, atol: 1e-6, rtol: 1e-5), 1, "b step \(t) amsgrad \(amsgrad)")
            }
            XCTAssertEqual(opt.stateTensors.map(\.name).sorted(),
                           (amsgrad ? ["b/_step", "b/exp_avg", "b/exp_avg_sq", "b/max_exp_avg_sq",
                                       "w/_step", "w/exp_avg", "w/exp_avg_sq", "w/max_exp_avg_sq"]
                                    : ["b/_step", "b/exp_avg", "b/exp_avg_sq", "w/_step", "w/exp_avg", "w/exp_avg_sq"]))
        }
    }

    func testPerplexityMatchesHandComputationAndIgnoresBatching() throws {
        var rng = RandomGenerator(seed: 3)
        let n = 23, vocab = 5
        let logits = random(n * vocab, &rng, scale: 2)
        let targets = (0..<n).map { _ in Int32(rng.below(vocab)) }
        var nll = 0.0
        for i in 0..<n {
            let row = logits[(i * vocab)..<((i + 1) * vocab)].map(Double.init)
            let m = row.max()!
            nll += m + log(row.map { exp($0 - m) }.reduce(0, +)) - row[Int(targets[i])]
        }
        let expected = exp(nll / Double(n))
        let eval = try EvaluatorInstance(registry: Self.registry, name: "perplexity", parameters: [:])
        func measure(splits: [Int]) throws -> [String: Double] {
            try eval.reset()
            var start = 0
            for size in splits {
                let slice = Array(logits[(start * vocab)..<((start + size) * vocab)])
                try eval.update(logits: Tensor(shape: [size, vocab], values: slice), targets: Array(targets[start..<(start + size)]))
                start += size
            }
            return Dictionary(uniqueKeysWithValues: try eval.compute().map { ($0.name, $0.value) })
        }
        let whole = try measure(splits: [23])
        XCTAssertEqual(whole["perplexity"]!, expected, accuracy: expected * 1e-9)
        XCTAssertEqual(whole["nll"]!, nll / Double(n), accuracy: 1e-9)
        let pieces = try measure(splits: [1, 5, 2, 7, 3, 4, 1])
        XCTAssertEqual(pieces["perplexity"]!, whole["perplexity"]!, accuracy: expected * 1e-12)
    }

    func testEvaluatorRejectsOutOfRangeTargetsWithAMessage() throws {
        let eval = try EvaluatorInstance(registry: Self.registry, name: "perplexity", parameters: [:])
        try eval.reset()
        XCTAssertThrowsError(try eval.update(logits: Tensor(zeros: [2, 3]), targets: [0, 9])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("perplexity") && text.contains("update"), text)
        }
    }
}
