import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// The bundled attention variants (issue #3) against float64 references written from their
/// papers' equations: sparse_topk, sliding_window, linear, alibi and gqa, forward and backward,
/// at odd sequence lengths (1, 5, 7, 13), plus their boundary cases and training runs through
/// the GPT model.
///
/// Tolerances: `toleranceRatio` with atol 1e-5, rtol 1e-4 (float32 kernels against float64
/// references on O(1) inputs), the same as causal_dense's test; exact identities (window 1 gives
/// v, unselected keys get no gradient) are checked exactly or to 1e-6.
final class AttentionPluginTests: XCTestCase {
    private static let registry = PluginBuilder.bundledRegistry()

    // MARK: - Drivers

    /// The complete parameter dictionary of attention `name`: every declared parameter with its
    /// default (as the config layer fills it), then `overrides`, which must be declared ones.
    private func parameters(_ name: String, _ overrides: [String: ParameterValue] = [:],
                            file: StaticString = #filePath, line: UInt = #line) -> [String: ParameterValue] {
        guard let info = Self.registry.info(named: name).first(where: { $0.kind == .attention }) else {
            XCTFail("no attention component named \(name)", file: file, line: line)
            return overrides
        }
        var values = info.parameters.defaultValues
        for (key, value) in overrides {
            XCTAssertNotNil(values[key], "\(name) declares no parameter '\(key)'", file: file, line: line)
            values[key] = value
        }
        return values
    }

    private func random(_ n: Int, _ rng: inout RandomGenerator, scale: Double = 1) -> [Float] {
        (0..<n).map { _ in Float(rng.normal() * scale) }
    }

    /// Shapes of the forward/backward comparisons: odd sequence lengths, batch and heads > 1.
    private static let shapes: [(batch: Int, heads: Int, seq: Int, dim: Int)] =
        [(2, 2, 1, 4), (2, 3, 5, 4), (1, 2, 7, 8), (1, 2, 13, 4)]

    /// Random inputs for one shape: q [B, H, T, D], k/v [B, KV, T, D], the output weights r.
    private struct Inputs {
        let batch: Int, heads: Int, kvHeads: Int, seq: Int, dim: Int
        var q: [Float], k: [Float], v: [Float], r: [Float]

        var qd: [Double] { q.map(Double.init) }
        var kd: [Double] { k.map(Double.init) }
        var vd: [Double] { v.map(Double.init) }
        var rd: [Double] { r.map(Double.init) }
    }

    private func inputs(batch: Int, heads: Int, kvHeads: Int? = nil, seq: Int, dim: Int, seed: UInt64) -> Inputs {
        var rng = RandomGenerator(seed: seed)
        let kv = kvHeads ?? heads
        let nq = batch * heads * seq * dim, nk = batch * kv * seq * dim
        return Inputs(batch: batch, heads: heads, kvHeads: kv, seq: seq, dim: dim,
                      q: random(nq, &rng), k: random(nk, &rng), v: random(nk, &rng), r: random(nq, &rng))
    }

    /// Runs attention `name` on `x` through the host (forward, then backward of sum(out * r)),
    /// checking the instance asked for x.kvHeads key/value heads.
    private func run(_ name: String, _ params: [String: ParameterValue], _ x: Inputs,
                     file: StaticString = #filePath, line: UInt = #line) throws
        -> (out: [Float], dq: [Float], dk: [Float], dv: [Float]) {
        let attn = try AttentionInstance(registry: Self.registry, name: name, parameters: params, nHead: x.heads,
                                         headDim: x.dim, blockSize: max(x.seq, 16), layer: 0, nLayer: 1)
        XCTAssertEqual(attn.kvHeads, x.kvHeads, "\(name): kv_heads", file: file, line: line)
        let qShape = [x.batch, x.heads, x.seq, x.dim], kShape = [x.batch, x.kvHeads, x.seq, x.dim]
        let q = Tensor(shape: qShape, values: x.q, requiresGrad: true)
        let k = Tensor(shape: kShape, values: x.k, requiresGrad: true)
        let v = Tensor(shape: kShape, values: x.v, requiresGrad: true)
        let out = try attn.forward(q: q, k: k, v: v)
        XCTAssertEqual(out.shape, qShape, file: file, line: line)
        try Ops.sumAll(try Ops.mul(out, Tensor(shape: qShape, values: x.r))).backward()
        let zeros = { (n: Int) in [Float](repeating: 0, count: n) }
        return (out.values, q.grad?.values ?? zeros(q.count), k.grad?.values ?? zeros(k.count), v.grad?.values ?? zeros(v.count))
    }

    /// Asserts forward and gradients within toleranceRatio(atol 1e-5, rtol 1e-4).
    private func assertClose(_ got: (out: [Float], dq: [Float], dk: [Float], dv: [Float]),
                             _ want: (out: [Double], dq: [Double], dk: [Double], dv: [Double]),
                             _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThanOrEqual(toleranceRatio(got.out, want.out), 1, "forward \(label)", file: file, line: line)
        XCTAssertLessThanOrEqual(toleranceRatio(got.dq, want.dq), 1, "dq \(label)", file: file, line: line)
        XCTAssertLessThanOrEqual(toleranceRatio(got.dk, want.dk), 1, "dk \(label)", file: file, line: line)
        XCTAssertLessThanOrEqual(toleranceRatio(got.dv, want.dv), 1, "dv \(label)", file: file, line: line)
    }

    private func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    // MARK: - Schemas

    func testEveryVariantDeclaresADocumentedSchema() throws {
        let expected: [String: (path: String, params: [String: Double])] = [
            "sparse_topk": ("composed", ["k": 32, "scale": 0]),
            "sliding_window": ("composed", ["window": 32, "scale": 0]),
            "linear": ("fused", ["eps": 1e-6]),
            "alibi": ("composed", ["max_bias": 8, "scale": 0]),
            "gqa": ("composed", ["kv_heads": 1, "scale": 0]),
        ]
        for (name, want) in expected {
            let info = try XCTUnwrap(Self.registry.info(named: name).first { $0.kind == .attention }, name)
            XCTAssertEqual(info.version, "1.0.0", name)
            XCTAssertFalse(info.summary.isEmpty, name)
            XCTAssertEqual(info.attentionPath, want.path, name)
            XCTAssertEqual(Set(info.parameters.map(\.name)), Set(want.params.keys), name)
            for spec in info.parameters {
                XCTAssertFalse(spec.doc.isEmpty, "\(name).\(spec.name) has no doc")
                XCTAssertEqual(spec.defaultValue, .number(want.params[spec.name]!), "\(name).\(spec.name) default")
                XCTAssertTrue(spec.min.isFinite, "\(name).\(spec.name) needs a lower bound")
                XCTAssertEqual(spec.kind, ["k", "window", "kv_heads"].contains(spec.name) ? .int : .float, "\(name).\(spec.name) type")
            }
        }
        // Bounds that matter: counts start at 1, eps and scales are non-negative.
        let specs = Dictionary(uniqueKeysWithValues: ["sparse_topk", "sliding_window", "gqa", "linear", "alibi"].flatMap { name in
            Self.registry.info(named: name).first { $0.kind == .attention }!.parameters.map { ("\(name).\($0.name)", $0) }
        })
        XCTAssertEqual(specs["sparse_topk.k"]?.min, 1)
        XCTAssertEqual(specs["sliding_window.window"]?.min, 1)
        XCTAssertEqual(specs["gqa.kv_heads"]?.min, 1)
        XCTAssertEqual(specs["linear.eps"]?.min, 0)
        XCTAssertEqual(specs["linear.eps"]?.max, 1)
        XCTAssertEqual(specs["alibi.max_bias"]?.max, 64)
    }

    // MARK: - The references themselves

    /// The extended reference reduces to ReferenceAttention without extras, and its analytic
    /// backward (with bias, window and top-k) and the linear reference's agree with central
    /// differences of their own forward passes in float64.
    func testReferencesAgreeWithFiniteDifferences() throws {
        let x = inputs(batch: 1, heads: 2, seq: 7, dim: 3, seed: 99)
        let plain = ExtendedReferenceAttention(batch: 1, heads: 2, kvHeads: 2, seq: 7, dim: 3)
            .run(q: x.qd, k: x.kd, v: x.vd, dOut: x.rd)
        let base = ReferenceAttention(batch: 1, heads: 2, kvHeads: 2, seq: 7, dim: 3).run(q: x.qd, k: x.kd, v: x.vd, dOut: x.rd)
        for (a, b) in [(plain.out, base.out), (plain.dq, base.dq), (plain.dk, base.dk), (plain.dv, base.dv)] {
            XCTAssertLessThan(zip(a, b).map { abs($0 - $1) }.max()!, 1e-12)
        }

        var extended = ExtendedReferenceAttention(batch: 1, heads: 2, kvHeads: 2, seq: 7, dim: 3)
        extended.window = 5
        extended.topK = 3
        extended.bias = { h, i, j in -0.3 * Double(h + 1) * Double(i - j) }
        let linear = LinearReference(batch: 1, heads: 2, seq: 7, dim: 3, eps: 1e-6)
        let cases: [(String, ([Double], [Double], [Double]) -> [Double],
                     (out: [Double], dq: [Double], dk: [Double], dv: [Double]))] = [
            ("extended", { extended.run(q: $0, k: $1, v: $2, dOut: x.rd).out }, extended.run(q: x.qd, k: x.kd, v: x.vd, dOut: x.rd).grads),
            ("linear", { linear.run(q: $0, k: $1, v: $2, dOut: x.rd).out }, linear.run(q: x.qd, k: x.kd, v: x.vd, dOut: x.rd)),
        ]
        XCTAssertGreaterThan(extended.run(q: x.qd, k: x.kd, v: x.vd, dOut: x.rd).margin, 1e-3, "top-k selection must be stable")
        for (label, forward, ref) in cases {
            func objective(_ q: [Double], _ k: [Double], _ v: [Double]) -> Double {
                zip(forward(q, k, v), x.rd).reduce(0) { $0 + $1.0 * $1.1 }
            }
            let h = 1e-6
            for i in 0..<x.q.count {
                var qp = x.qd, qm = x.qd, kp = x.kd, km = x.kd, vp = x.vd, vm = x.vd
                qp[i] += h; qm[i] -= h; kp[i] += h; km[i] -= h; vp[i] += h; vm[i] -= h
                let nq = (objective(qp, x.kd, x.vd) - objective(qm, x.kd, x.vd)) / (2 * h)
                let nk = (objective(x.qd, kp, x.vd) - objective(x.qd, km, x.vd)) / (2 * h)
                let nv = (objective(x.qd, x.kd, vp) - objective(x.qd, x.kd, vm)) / (2 * h)
                XCTAssertEqual(ref.dq[i], nq, accuracy: 1e-6 + 1e-6 * abs(nq), "\(label) dq[\(i)]")
                XCTAssertEqual(ref.dk[i], nk, accuracy: 1e-6 + 1e-6 * abs(nk), "\(label) dk[\(i)]")
                XCTAssertEqual(ref.dv[i], nv, accuracy: 1e-6 + 1e-6 * abs(nv), "\(label) dv[\(i)]")
            }
        }
    }

    // MARK: - sparse_topk

    func testSparseTopKWithKCoveringTheSequenceIsCausalDense() throws {
        for (batch, heads, seq, dim) in Self.shapes {
            let x = inputs(batch: batch, heads: heads, seq: seq, dim: dim, seed: UInt64(100 + seq))
            let dense = try run("causal_dense", parameters("causal_dense"), x)
            let ref = ReferenceAttention(batch: batch, heads: heads, kvHeads: heads, seq: seq, dim: dim)
                .run(q: x.qd, k: x.kd, v: x.vd, dOut: x.rd)
            for k in [seq, seq + 3] {
                let got = try run("sparse_topk", parameters("sparse_topk", ["k": .number(Double(k))]), x)
                assertClose(got, ref, "k \(k) seq \(seq)")
                for (a, b, what) in [(got.out, dense.out, "out"), (got.dq, dense.dq, "dq"), (got.dk, dense.dk, "dk"), (got.dv, dense.dv, "dv")] {
                    XCTAssertLessThanOrEqual(maxAbsDiff(a, b), 1e-6, "\(what) vs causal_dense, k \(k) seq \(seq)")
                }
            }
        }
    }

    func testSparseTopKMatchesReferenceWithSmallK() throws {
        for (batch, heads, seq, dim) in Self.shapes where seq > 1 {
            for k in [1, 2, 3] {
                let x = inputs(batch: batch, heads: heads, seq: seq, dim: dim, seed: UInt64(200 + 10 * seq + k))
                var reference = ExtendedReferenceAttention(batch: batch, heads: heads, kvHeads: heads, seq: seq, dim: dim)
                reference.topK = k
                let ref = reference.run(q: x.qd, k: x.kd, v: x.vd, dOut: x.rd)
                XCTAssertGreaterThan(ref.margin, 1e-4, "inputs with a near tie at the k-th score (seq \(seq), k \(k))")
                let got = try run("sparse_topk", parameters("sparse_topk", ["k": .number(Double(k))]), x)
                assertClose(got, ref.grads, "k \(k) seq \(seq)")
                // Gradients flow only through kept entries: a key no query kept gets none at all.
                for b in 0..<batch {
                    for h in 0..<heads {
                        for j in 0..<seq where !(0..<seq).contains(where: { ref.kept[((b * heads + h) * seq + $0) * seq + j] }) {
                            let o = ((b * heads + h) * seq + j) * dim
                            XCTAssertEqual(Array(got.dv[o..<(o + dim)]), [Float](repeating: 0, count: dim), "dv of unkept key \(j)")
                            XCTAssertEqual(Array(got.dk[o..<(o + dim)]), [Float](repeating: 0, count: dim), "dk of unkept key \(j)")
                        }
                    }
                }
                if k == 1 {  // one kept score: out_i = v of the best key, and the scores get no gradient
                    XCTAssertEqual(got.dq.map(abs).max()!, 0)
                    XCTAssertEqual(got.dk.map(abs).max()!, 0)
                }
            }
        }
    }

    // MARK: - sliding_window

    func testSlidingWindowOfOneSeesOnlyTheQueryItself() throws {
        for (batch, heads, seq, dim) in Self.shapes {
            let x = inputs(batch: batch, heads: heads, seq: seq, dim: dim, seed: UInt64(300 + seq))
            let got = try run("sliding_window", parameters("sliding_window", ["window": .number(1)]), x)
            XCTAssertLessThanOrEqual(maxAbsDiff(got.out, x.v), 1e-6, "out == v, seq \(seq)")
            XCTAssertLessThanOrEqual(maxAbsDiff(got.dv, x.r), 1e-6, "dv == dOut, seq \(seq)")
            XCTAssertEqual(got.dq.map(abs).max()!, 0, "dq, seq \(seq)")
            XCTAssertEqual(got.dk.map(abs).max()!, 0, "dk, seq \(seq)")
        }
    }

    func testSlidingWindowCoveringTheSequenceIsCausalDense() throws {
        for (batch, heads, seq, dim) in Self.shapes {
            let x = inputs(batch: batch, heads: heads, seq: seq, dim: dim, seed: UInt64(400 + seq))
            let dense = try run("causal_dense", parameters("causal_dense"), x)
            let ref = ReferenceAttention(batch: batch, heads: heads, kvHeads: heads, seq: seq, dim: dim)
                .run(q: x.qd, k: x.kd, v: x.vd, dOut: x.rd)
            for window in [seq, seq + 1, 1000] {
                let got = try run("sliding_window", parameters("sliding_window", ["window": .number(Double(window))]), x)
                assertClose(got, ref, "window \(window) seq \(seq)")
                XCTAssertLessThanOrEqual(maxAbsDiff(got.out, dense.out), 1e-6, "vs causal_dense, window \(window) seq \(seq)")
            }
        }
    }

    func testSlidingWindowMatchesReferenceAndCountsTheQueryInTheWindow() throws {
        for (batch, heads, seq, dim) in Self.shapes where seq > 2 {
            for window in Set([2, 3, seq - 1]) {
                let x = inputs(batch: batch, heads: heads, seq: seq, dim: dim, seed: UInt64(500 + 10 * seq + window))
                var reference = ReferenceAttention(batch: batch, heads: heads, kvHeads: heads, seq: seq, dim: dim)
                reference.window = window
                let got = try run("sliding_window", parameters("sliding_window", ["window": .number(Double(window))]), x)
                assertClose(got, reference.run(q: x.qd, k: x.kd, v: x.vd, dOut: x.rd), "window \(window) seq \(seq)")

                // The boundary, directly: query i depends on keys i-window+1 ... i (window keys,
                // itself included) and not on key i-window.
                let attn = try AttentionInstance(registry: Self.registry, name: "sliding_window",
                                                 parameters: parameters("sliding_window", ["window": .number(Double(window))]),
                                                 nHead: heads, headDim: dim, blockSize: seq, layer: 0, nLayer: 1)
                let shape = [batch, heads, seq, dim]
                func forward(_ v: [Float]) throws -> [Float] {
                    try Autograd.withNoGrad {
                        try attn.forward(q: Tensor(shape: shape, values: x.q), k: Tensor(shape: shape, values: x.k),
                                         v: Tensor(shape: shape, values: v)).values
                    }
                }
                let before = try forward(x.v)
                for j in [0, seq - 1 - window] where j >= 0 {
                    var v = x.v
                    v[j * dim] += 5  // batch 0, head 0, key j, feature 0
                    let after = try forward(v)
                    for i in 0..<seq {
                        let changed = abs(after[i * dim] - before[i * dim]) > 1e-6
                        XCTAssertEqual(changed, i >= j && i < j + window,
                                       "window \(window): query \(i) vs key \(j) (seq \(seq))")
                    }
                }
            }
        }
    }

    // MARK: - linear

    func testLinearMatchesFloat64ReferenceForwardAndBackward() throws {
        for (batch, heads, seq, dim) in Self.shapes + [(1, 1, 13, 16)] {
            let x = inputs(batch: batch, heads: heads, seq: seq, dim: dim, seed: UInt64(600 + seq))
            for eps in [1e-6, 0.5] {
                let got = try run("linear", parameters("linear", ["eps": .number(eps)]), x)
                let ref = LinearReference(batch: batch, heads: heads, seq: seq, dim: dim, eps: eps)
                    .run(q: x.qd, k: x.kd, v: x.vd, dOut: x.rd)
                assertClose(got, ref, "eps \(eps) seq \(seq) dim \(dim)")
            }
        }
    }

    func testLinearIsFusedAndHandlesLongSequencesWithoutDrift() throws {
        // 257 positions: the running sums stay accurate (float64 in the plugin), and evaluation
        // (no gradient recording) gives the same output as training mode.
        let x = inputs(batch: 1, heads: 2, seq: 257, dim: 8, seed: 7)
        let got = try run("linear", parameters("linear"), x)
        let ref = LinearReference(batch: 1, heads: 2, seq: 257, dim: 8, eps: 1e-6).run(q: x.qd, k: x.kd, v: x.vd, dOut: x.rd)
        assertClose(got, ref, "seq 257")
        let attn = try AttentionInstance(registry: Self.registry, name: "linear", parameters: parameters("linear"),
                                         nHead: 2, headDim: 8, blockSize: 257, layer: 0, nLayer: 1)
        let shape = [1, 2, 257, 8]
        let eval = try Autograd.withNoGrad {
            try attn.forward(q: Tensor(shape: shape, values: x.q), k: Tensor(shape: shape, values: x.k),
                             v: Tensor(shape: shape, values: x.v))
        }
        XCTAssertEqual(eval.values, got.out)
    }

    // MARK: - alibi

    /// Head slopes read back from the plugin's output: with q = 0 the scores are the biases
    /// alone, so for two positions and v = (0, 1) the second output is 1 / (1 + exp(-m_h)).
    func testAlibiSlopesFollowThePaper() throws {
        let powers: (([Double]) -> [Double]) = { $0.map { pow(2, -$0) } }
        let cases: [(heads: Int, maxBias: Double, slopes: [Double])] = [
            (1, 8, powers([8])),
            (2, 8, powers([4, 8])),
            (3, 8, powers([4, 8, 2])),                                   // 2 heads' slopes, then 4 heads' 1st
            (4, 8, powers([2, 4, 6, 8])),
            (6, 8, powers([2, 4, 6, 8, 1, 3])),                          // 4 heads', then 8 heads' 1st and 3rd
            (8, 8, powers([1, 2, 3, 4, 5, 6, 7, 8])),
            (12, 8, powers([1, 2, 3, 4, 5, 6, 7, 8, 0.5, 1.5, 2.5, 3.5])), // 8 heads', then 16 heads' odd ones
            (4, 4, powers([1, 2, 3, 4])),
        ]
        for (heads, maxBias, slopes) in cases {
            let attn = try AttentionInstance(registry: Self.registry, name: "alibi",
                                             parameters: parameters("alibi", ["max_bias": .number(maxBias)]),
                                             nHead: heads, headDim: 1, blockSize: 2, layer: 0, nLayer: 1)
            var rng = RandomGenerator(seed: 1)
            let q = Tensor(zeros: [1, heads, 2, 1])
            let k = Tensor(shape: [1, heads, 2, 1], values: random(2 * heads, &rng))
            let v = Tensor(shape: [1, heads, 2, 1], values: (0..<heads).flatMap { _ in [Float(0), 1] })
            let out = try Autograd.withNoGrad { try attn.forward(q: q, k: k, v: v) }.values
            for h in 0..<heads {
                XCTAssertEqual(out[2 * h], 0, "position 0 sees only itself")
                let p = Double(out[2 * h + 1]), measured = log(p / (1 - p))
                XCTAssertEqual(measured, slopes[h], accuracy: 2e-3 * slopes[h], "slope of head \(h) of \(heads), max_bias \(maxBias)")
            }
        }
    }

    func testAlibiMatchesFloat64ReferenceForwardAndBackward() throws {
        for (batch, heads, seq, dim) in Self.shapes + [(1, 4, 7, 4), (1, 6, 13, 4)] {
            let x = inputs(batch: batch, heads: heads, seq: seq, dim: dim, seed: UInt64(700 + 10 * seq + heads))
            for maxBias in [8.0, 2.0] {
                let slopes = paperSlopes(heads, maxBias: maxBias)
                var reference = ExtendedReferenceAttention(batch: batch, heads: heads, kvHeads: heads, seq: seq, dim: dim)
                reference.bias = { h, i, j in -slopes[h] * Double(i - j) }
                let got = try run("alibi", parameters("alibi", ["max_bias": .number(maxBias)]), x)
                assertClose(got, reference.run(q: x.qd, k: x.kd, v: x.vd, dOut: x.rd).grads,
                            "heads \(heads) seq \(seq) max_bias \(maxBias)")
            }
        }
    }

    /// get_slopes of the ALiBi reference code (github.com/ofirpress/attention_with_linear_biases),
    /// with 8 generalised to maxBias.
    private func paperSlopes(_ n: Int, maxBias: Double) -> [Double] {
        func powerOfTwo(_ n: Int) -> [Double] {
            let start = pow(2, -maxBias / Double(n))
            return (0..<n).map { start * pow(start, Double($0)) }
        }
        if n & (n - 1) == 0 { return powerOfTwo(n) }
        let closest = 1 << Int(log2(Double(n)))
        let extra = paperSlopes(2 * closest, maxBias: maxBias).enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        return powerOfTwo(closest) + extra.prefix(n - closest)
    }

    /// A short training run through the config layer with `model.position_embedding: false`, as
    /// the plugin's documentation asks: the model has no position embedding and still learns.
    func testAlibiTrainsWithoutPositionEmbeddings() throws {
        let work = try PluginBuilder.temporaryDirectory("alibi-run")
        let corpus = work.appendingPathComponent("corpus.txt")
        try TrainingTests.corpus.write(to: corpus, atomically: true, encoding: .utf8)
        let config = work.appendingPathComponent("run.yaml")
        try """
        data: { path: \(corpus.path) }
        model: { n_layer: 2, n_head: 2, n_embd: 32, block_size: 16, position_embedding: false }
        attention: { name: alibi }
        optimizer: { name: adamw, lr: 3.0e-3, weight_decay: 0.1, betas: [0.9, 0.99] }
        train: { steps: 80, batch_size: 8, warmup_steps: 5, min_lr: 3.0e-4, grad_clip: 1.0, eval_interval: 80,
                 eval_batches: 4, log_interval: 5, seed: 5, threads: 2 }
        run: { dir: \(work.appendingPathComponent("run").path) }
        evaluators: [perplexity]
        """.write(to: config, atomically: true, encoding: .utf8)
        let resolved = try ConfigLoader.load(file: config.path, environment: [:], overrides: []).resolve(schemas: Self.registry)
        XCTAssertEqual(resolved.config.attention.name, "alibi")
        XCTAssertEqual(resolved.config.attention.parameters, ["max_bias": .number(8), "scale": .number(0)])
        XCTAssertFalse(resolved.config.model.positionEmbedding)

        var losses: [Double] = []
        var options = SessionOptions()
        options.configFile = config.path
        let session = try Session(options)
        session.progress = { p in if p.kind == .step { losses.append(p.loss) }; return .proceed }
        XCTAssertEqual(session.config, resolved.config)
        XCTAssertNil(session.model.positionEmbedding)
        XCTAssertFalse(session.model.parameters.contains { $0.name == "position_embedding.weight" })
        let result = try session.train()
        XCTAssertEqual(result.steps, 80)
        XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(losses)")
        XCTAssertLessThan(losses.last!, losses.first! - 1.0, "loss should fall: \(losses)")
        // Below the unigram entropy of the text, the best loss without context: the model uses
        // the positions ALiBi gives it.
        var counts: [Character: Double] = [:]
        for c in TrainingTests.corpus { counts[c, default: 0] += 1 }
        let total = Double(TrainingTests.corpus.count)
        let unigramEntropy = counts.values.reduce(0.0) { $0 - $1 / total * log($1 / total) }
        let valLoss = try XCTUnwrap(result.metric("val/loss"))
        XCTAssertLessThan(valLoss, unigramEntropy - 0.3, "val/loss \(valLoss), unigram entropy \(unigramEntropy)")
    }

    // MARK: - gqa

    func testGQAMatchesReferenceWithSharedKeyValueHeads() throws {
        for (batch, heads, kvHeads, seq, dim) in [(2, 4, 1, 1, 4), (2, 4, 2, 5, 4), (1, 4, 1, 7, 8), (1, 6, 3, 13, 4),
                                                   (1, 6, 2, 7, 4), (1, 2, 2, 5, 4)] {
            let x = inputs(batch: batch, heads: heads, kvHeads: kvHeads, seq: seq, dim: dim, seed: UInt64(800 + 10 * seq + kvHeads))
            let got = try run("gqa", parameters("gqa", ["kv_heads": .number(Double(kvHeads))]), x)
            let ref = ReferenceAttention(batch: batch, heads: heads, kvHeads: kvHeads, seq: seq, dim: dim)
                .run(q: x.qd, k: x.kd, v: x.vd, dOut: x.rd)
            assertClose(got, ref, "heads \(heads) kv \(kvHeads) seq \(seq)")
        }
    }

    func testGQARejectsKvHeadsThatDoNotDivideNHead() throws {
        for kv in [3, 5, 8] {
            XCTAssertThrowsError(try AttentionInstance(registry: Self.registry, name: "gqa",
                                                       parameters: parameters("gqa", ["kv_heads": .number(Double(kv))]),
                                                       nHead: 4, headDim: 4, blockSize: 8, layer: 0, nLayer: 1)) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("gqa") && text.contains("create") && text.contains("kv_heads = \(kv) must divide n_head = 4"), text)
            }
        }
    }

    /// Through the GPT model: the qkv projection has (n_head + 2 kv_heads) head_dim rows, and the
    /// model computes exactly what a dense model computes whose key/value projection rows are
    /// those of the shared heads repeated for each group.
    func testGQAModelEqualsDenseModelWithRepeatedKeyValueProjections() throws {
        let config = GPTConfig(nLayer: 2, nHead: 4, nEmbd: 32, blockSize: 8, vocabSize: 11)
        let headDim = 8
        let dense = try GPT(config: config, attention: ComponentSelection(kind: .attention, name: "causal_dense",
                                                                           parameters: parameters("causal_dense")),
                            registry: Self.registry, seed: 1)
        for kv in [1, 2] {
            let gqa = try GPT(config: config, attention: ComponentSelection(kind: .attention, name: "gqa",
                                                                             parameters: parameters("gqa", ["kv_heads": .number(Double(kv))])),
                              registry: Self.registry, seed: 1)
            for block in gqa.blocks {
                XCTAssertEqual(block.attention.kvHeads, kv)
                XCTAssertEqual(block.qkv.shape, [(4 + 2 * kv) * headDim, 32])
            }
            let qkvName = try XCTUnwrap(gqa.parameters.first { $0.name == "blocks.0.attn.qkv.weight" })
            XCTAssertEqual(qkvName.count, (4 + 2 * kv) * headDim * 32)
            XCTAssertEqual(dense.parameterCount - gqa.parameterCount, 2 * 2 * (4 - kv) * headDim * 32)

            // Larger weights than the initialisation's, so attention is far from uniform and
            // every path carries signal; then copy every weight into the dense model,
            // expanding the shared k/v rows.
            for p in gqa.parameters where p.ndim == 2 { for i in 0..<p.count { p.data[i] *= 10 } }
            for (d, g) in zip(dense.parameters, gqa.parameters) {
                XCTAssertEqual(d.name, g.name)
                guard d.name?.hasSuffix("attn.qkv.weight") == true else {
                    d.data.update(from: g.data, count: g.count)
                    continue
                }
                let row = 32, group = 4 / kv
                func copyRows(_ dstRow: Int, _ srcRow: Int, _ n: Int) {
                    (d.data + dstRow * row).update(from: g.data + srcRow * row, count: n * row)
                }
                copyRows(0, 0, 4 * headDim)  // q
                for part in 0..<2 {          // k, then v
                    for h in 0..<4 {
                        copyRows((4 + part * 4 + h) * headDim, (4 + part * kv + h / group) * headDim, headDim)
                    }
                }
            }
            let ids: [Int32] = (0..<16).map { Int32(($0 * 7) % 11) }, targets = ids.map { ($0 + 1) % 11 }
            let a = try gqa.loss(ids: ids, targets: targets, batch: 2, seq: 8)
            let b = try dense.loss(ids: ids, targets: targets, batch: 2, seq: 8)
            XCTAssertLessThanOrEqual(maxAbsDiff(a.logits.values, b.logits.values), 1e-5, "kv_heads \(kv)")
            // The shared heads' gradient is the sum over their group of the dense gradients.
            try a.loss.backward()
            try b.loss.backward()
            let gq = gqa.blocks[0].qkv.grad!.values, dq = dense.blocks[0].qkv.grad!.values
            let group = 4 / kv, rowSize = headDim * 32
            var got: [Float] = [], want: [Double] = []
            for part in 0..<2 {
                for s in 0..<kv {
                    for e in 0..<rowSize {
                        got.append(gq[(4 + part * kv + s) * rowSize + e])
                        want.append((0..<group).reduce(0.0) { $0 + Double(dq[(4 + part * 4 + s * group + $1) * rowSize + e]) })
                    }
                }
            }
            XCTAssertLessThanOrEqual(toleranceRatio(got, want, atol: 1e-5, rtol: 1e-3), 1, "shared k/v gradients, kv_heads \(kv)")
            XCTAssertLessThanOrEqual(toleranceRatio(Array(gq[0..<(4 * rowSize)]), dq[0..<(4 * rowSize)].map(Double.init),
                                                    atol: 1e-5, rtol: 1e-3), 1, "q gradients, kv_heads \(kv)")
            for p in dense.parameters { p.grad = nil }
        }
    }

    func testGQATrainsThroughTheTrainer() throws {
        var config = TrainingTests.config(runDir: try PluginBuilder.temporaryDirectory("gqa-run").path, steps: 40)
        config.model.nHead = 4
        config.attention = ComponentSelection(kind: .attention, name: "gqa", parameters: parameters("gqa", ["kv_heads": .number(2)]))
        config.train.evalInterval = 40
        var losses: [Double] = []
        let session = try TrainingTests.session(config, registry: Self.registry) { p in
            if p.kind == .step { losses.append(p.loss) }
        }
        let qkv = try XCTUnwrap(session.parameter(named: "blocks.0.attn.qkv.weight"))
        XCTAssertEqual(qkv.shape, [(4 + 2 * 2) * 8, 32])
        let result = try session.train()
        XCTAssertEqual(result.steps, 40)
        XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(losses)")
        XCTAssertLessThan(losses.last!, losses.first! - 0.5, "loss should fall: \(losses)")
    }

    // MARK: - every variant in the model

    /// Each variant drives a short training run through the Trainer with finite, falling loss.
    func testEveryVariantTrainsAFewSteps() throws {
        let variants: [(String, [String: ParameterValue])] = [
            ("sparse_topk", ["k": .number(4)]), ("sliding_window", ["window": .number(4)]),
            ("linear", [:]), ("alibi", [:]), ("gqa", [:]),
        ]
        for (name, overrides) in variants {
            var config = TrainingTests.config(runDir: try PluginBuilder.temporaryDirectory("\(name)-run").path, steps: 30)
            config.attention = ComponentSelection(kind: .attention, name: name, parameters: parameters(name, overrides))
            config.evaluators = []
            config.train.evalInterval = 30
            config.train.evalBatches = 1
            var losses: [Double] = []
            let session = try TrainingTests.session(config, registry: Self.registry) { p in
                if p.kind == .step { losses.append(p.loss) }
            }
            _ = try session.train()
            XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(name): \(losses)")
            XCTAssertLessThan(losses.last!, losses.first! - 0.5, "\(name): loss should fall: \(losses)")
        }
    }
}

/// Naive float64 causal softmax attention with the extensions of the variants under test: an
/// additive score bias per (head, query, key) (ALiBi), a local window, and top-k selection per
/// query, with the analytic backward. The top-k selection is a constant of the forward pass, so
/// gradients flow only through kept scores; `margin` reports the smallest gap between a row's
/// k-th and (k+1)-th score, so a test can make sure float32 and float64 select the same keys.
struct ExtendedReferenceAttention {
    let batch: Int, heads: Int, kvHeads: Int, seq: Int, dim: Int
    /// Multiplies q.k (default 1/sqrt(dim)).
    var scale: Double?
    /// Keys further back than this are masked (0 = unlimited); the window includes the query.
    var window = 0
    /// Scores kept per query (0 = all).
    var topK = 0
    /// Added to the scaled score of (head, query i, key j).
    var bias: (Int, Int, Int) -> Double = { _, _, _ in 0 }

    init(batch: Int, heads: Int, kvHeads: Int, seq: Int, dim: Int) {
        self.batch = batch; self.heads = heads; self.kvHeads = kvHeads; self.seq = seq; self.dim = dim
    }

    struct Result {
        var out: [Double], dq: [Double], dk: [Double], dv: [Double]
        /// Whether score (b, h, i, j) was kept, row-major [batch, heads, seq, seq].
        var kept: [Bool]
        /// Smallest gap between the k-th and (k+1)-th candidate score of any row (inf if none).
        var margin: Double
        var grads: (out: [Double], dq: [Double], dk: [Double], dv: [Double]) { (out, dq, dk, dv) }
    }

    func run(q: [Double], k: [Double], v: [Double], dOut: [Double]) -> Result {
        var r = Result(out: .init(repeating: 0, count: q.count), dq: .init(repeating: 0, count: q.count),
                       dk: .init(repeating: 0, count: k.count), dv: .init(repeating: 0, count: k.count),
                       kept: .init(repeating: false, count: batch * heads * seq * seq), margin: .infinity)
        let scale = self.scale ?? 1 / Double(dim).squareRoot()
        for b in 0..<batch {
            for h in 0..<heads {
                let kh = h / (heads / kvHeads)
                let qo = (b * heads + h) * seq * dim, ko = (b * kvHeads + kh) * seq * dim
                for i in 0..<seq {
                    // Candidate scores: causal and inside the window.
                    var s: [(j: Int, score: Double)] = []
                    for j in 0...i where window <= 0 || j > i - window {
                        var dot = 0.0
                        for d in 0..<dim { dot += q[qo + i * dim + d] * k[ko + j * dim + d] }
                        s.append((j, dot * scale + bias(h, i, j)))
                    }
                    if topK > 0 && s.count > topK {
                        let sorted = s.map(\.score).sorted(by: >)
                        r.margin = min(r.margin, sorted[topK - 1] - sorted[topK])
                        s = Array(s.sorted { $0.score > $1.score }.prefix(topK))
                    }
                    let m = s.map(\.score).max()!
                    let e = s.map { exp($0.score - m) }, z = e.reduce(0, +)
                    let p = e.map { $0 / z }
                    for (n, entry) in s.enumerated() {
                        r.kept[((b * heads + h) * seq + i) * seq + entry.j] = true
                        for d in 0..<dim { r.out[qo + i * dim + d] += p[n] * v[ko + entry.j * dim + d] }
                    }
                    // Backward of out_i = sum_n p_n v_jn with p = softmax(scores).
                    var dp = [Double](repeating: 0, count: s.count)
                    for (n, entry) in s.enumerated() {
                        for d in 0..<dim {
                            dp[n] += dOut[qo + i * dim + d] * v[ko + entry.j * dim + d]
                            r.dv[ko + entry.j * dim + d] += p[n] * dOut[qo + i * dim + d]
                        }
                    }
                    let dot = zip(dp, p).reduce(0.0) { $0 + $1.0 * $1.1 }
                    for (n, entry) in s.enumerated() {
                        let ds = p[n] * (dp[n] - dot) * scale
                        for d in 0..<dim {
                            r.dq[qo + i * dim + d] += ds * k[ko + entry.j * dim + d]
                            r.dk[ko + entry.j * dim + d] += ds * q[qo + i * dim + d]
                        }
                    }
                }
            }
        }
        return r
    }
}

/// Naive float64 causal linear attention (Katharopoulos et al. 2020, eq. 2 with phi = elu + 1),
/// in its quadratic "attention matrix" form: out_t = sum_{j<=t} A_tj v_j / (sum_{j<=t} A_tj + eps),
/// A_tj = phi(q_t).phi(k_j), with the analytic backward of that form (independent of the
/// plugin's recurrent formulation).
struct LinearReference {
    let batch: Int, heads: Int, seq: Int, dim: Int, eps: Double

    private func phi(_ x: Double) -> Double { x > 0 ? x + 1 : exp(x) }
    private func dphi(_ x: Double) -> Double { x > 0 ? 1 : exp(x) }

    func run(q: [Double], k: [Double], v: [Double], dOut: [Double]) -> (out: [Double], dq: [Double], dk: [Double], dv: [Double]) {
        var out = [Double](repeating: 0, count: q.count), dq = out, dk = out, dv = out
        for bh in 0..<(batch * heads) {
            let o = bh * seq * dim
            let fq = (0..<(seq * dim)).map { phi(q[o + $0]) }, fk = (0..<(seq * dim)).map { phi(k[o + $0]) }
            var a = [[Double]](repeating: [Double](repeating: 0, count: seq), count: seq)
            var den = [Double](repeating: eps, count: seq)
            for t in 0..<seq {
                for j in 0...t {
                    for d in 0..<dim { a[t][j] += fq[t * dim + d] * fk[j * dim + d] }
                    den[t] += a[t][j]
                    for d in 0..<dim { out[o + t * dim + d] += a[t][j] * v[o + j * dim + d] }
                }
                for d in 0..<dim { out[o + t * dim + d] /= den[t] }
            }
            var dfq = [Double](repeating: 0, count: seq * dim), dfk = dfq
            for t in 0..<seq {
                let g = (0..<dim).map { dOut[o + t * dim + $0] }
                let gOut = (0..<dim).reduce(0.0) { $0 + g[$1] * out[o + t * dim + $1] }
                for j in 0...t {
                    let gv = (0..<dim).reduce(0.0) { $0 + g[$1] * v[o + j * dim + $1] }
                    let da = (gv - gOut) / den[t]  // d out_t / d A_tj, contracted with g
                    for d in 0..<dim {
                        dv[o + j * dim + d] += a[t][j] / den[t] * g[d]
                        dfq[t * dim + d] += da * fk[j * dim + d]
                        dfk[j * dim + d] += da * fq[t * dim + d]
                    }
                }
            }
            for n in 0..<(seq * dim) {
                dq[o + n] = dfq[n] * dphi(q[o + n])
                dk[o + n] = dfk[n] * dphi(k[o + n])
            }
        }
        return (out, dq, dk, dv)
    }
}
