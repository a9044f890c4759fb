import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// The bundled `flash` attention (fused, tiled, FlashAttention-2 style) against the float64
/// reference (ragged tiles, odd sizes, GQA, a custom scale), against the composed
/// `causal_dense`, and end to end through the trainer.
final class FlashAttentionTests: XCTestCase {
    private static let registry = PluginBuilder.bundledRegistry()

    /// A complete parameter dictionary for `flash` (every declared parameter).
    static func flashParameters(blockQ: Int = 64, blockK: Int = 64, kvHeads: Int = 0, scale: Double = 0,
                                gemm: String = "auto") -> [String: ParameterValue] {
        ["block_q": .number(Double(blockQ)), "block_k": .number(Double(blockK)), "scale": .number(scale),
         "kv_heads": .number(Double(kvHeads)), "gemm": .string(gemm), "rope_base": .number(0)]
    }

    /// Gradients and outputs the component promises to write whole start as NaN (so a missed
    /// element fails the comparison instead of reading stale pool memory).
    override func setUp() { TensorStorage.poisonsUninitialized = true }
    override func tearDown() { TensorStorage.poisonsUninitialized = false }

    /// Every way of computing the tile products: the plugin's own kernels (the widest the CPU runs,
    /// and the AVX2 ones) and the host's sgemm.
    private static let gemms = ["plugin", "plugin_avx2", "host"]

    private struct Shape: CustomStringConvertible {
        let batch: Int, heads: Int, kvHeads: Int, seq: Int, dim: Int
        var q: [Int] { [batch, heads, seq, dim] }
        var kv: [Int] { [batch, kvHeads, seq, dim] }
        var description: String { "B\(batch) H\(heads) KV\(kvHeads) T\(seq) D\(dim)" }
    }

    /// Random inputs of one shape: q, k, v and the upstream gradient dOut.
    private struct Inputs {
        let q: [Float], k: [Float], v: [Float], dOut: [Float]
        init(_ s: Shape, seed: UInt64) {
            var rng = RandomGenerator(seed: seed)
            func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.normal()) } }
            let nq = s.q.reduce(1, *), nk = s.kv.reduce(1, *)
            q = random(nq); k = random(nk); v = random(nk); dOut = random(nq)
        }
    }

    /// Output and the gradients of sum(out * dOut).
    private struct Result { let out: [Float], dq: [Float], dk: [Float], dv: [Float] }

    private func run(_ name: String, _ parameters: [String: ParameterValue], _ s: Shape, _ x: Inputs,
                     file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        let attn = try AttentionInstance(registry: Self.registry, name: name, parameters: parameters, nHead: s.heads,
                                         headDim: s.dim, blockSize: s.seq, layer: 0, nLayer: 1)
        XCTAssertEqual(attn.kvHeads, s.kvHeads, "layout of \(name)", file: file, line: line)
        let q = Tensor(shape: s.q, values: x.q, requiresGrad: true)
        let k = Tensor(shape: s.kv, values: x.k, requiresGrad: true)
        let v = Tensor(shape: s.kv, values: x.v, requiresGrad: true)
        let out = try attn.forward(q: q, k: k, v: v)
        XCTAssertEqual(out.shape, s.q, file: file, line: line)
        try Ops.sumAll(try Ops.mul(out, Tensor(shape: s.q, values: x.dOut))).backward()
        return Result(out: out.values, dq: q.grad!.values, dk: k.grad!.values, dv: v.grad!.values)
    }

    private func reference(_ s: Shape, _ x: Inputs) -> (out: [Double], dq: [Double], dk: [Double], dv: [Double]) {
        ReferenceAttention(batch: s.batch, heads: s.heads, kvHeads: s.kvHeads, seq: s.seq, dim: s.dim)
            .run(q: x.q.map(Double.init), k: x.k.map(Double.init), v: x.v.map(Double.init), dOut: x.dOut.map(Double.init))
    }

    private func assertClose(_ got: Result, _ want: (out: [Double], dq: [Double], dk: [Double], dv: [Double]),
                             _ label: String, atol: Double = 1e-5, rtol: Double = 1e-4,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.out.count, want.out.count, file: file, line: line)
        XCTAssertEqual(got.dk.count, want.dk.count, file: file, line: line)
        for (what, a, b) in [("out", got.out, want.out), ("dq", got.dq, want.dq), ("dk", got.dk, want.dk), ("dv", got.dv, want.dv)] {
            XCTAssertTrue(a.allSatisfy(\.isFinite), "\(what) not finite, \(label)", file: file, line: line)
            XCTAssertLessThanOrEqual(toleranceRatio(a, b, atol: atol, rtol: rtol), 1, "\(what), \(label)", file: file, line: line)
        }
    }

    // MARK: - Against the float64 reference

    func testMatchesFloat64ReferenceWithRaggedTiles() throws {
        // 16-row tiles: seq 1 and 5, 7 (one partial tile), 33 (two full tiles + one row), 100 (6.25 tiles).
        let shapes = [Shape(batch: 1, heads: 1, kvHeads: 1, seq: 1, dim: 3), Shape(batch: 2, heads: 3, kvHeads: 3, seq: 5, dim: 4),
                      Shape(batch: 1, heads: 2, kvHeads: 2, seq: 7, dim: 8), Shape(batch: 2, heads: 2, kvHeads: 2, seq: 33, dim: 16),
                      Shape(batch: 1, heads: 3, kvHeads: 3, seq: 100, dim: 8), Shape(batch: 2, heads: 2, kvHeads: 2, seq: 100, dim: 32),
                      Shape(batch: 1, heads: 1, kvHeads: 1, seq: 64, dim: 64)]
        for (i, s) in shapes.enumerated() {
            let x = Inputs(s, seed: UInt64(100 + i))
            let want = reference(s, x)
            for gemm in Self.gemms {
                let got = try run("flash", Self.flashParameters(blockQ: 16, blockK: 16, gemm: gemm), s, x)
                assertClose(got, want, "\(s) tiles 16 gemm \(gemm)")
            }
        }
    }

    func testNonSquareAndOddTilesMatchReference() throws {
        // Query and key tiles of different sizes put the diagonal at every offset inside a tile;
        // 1 x 1 tiles and tiles larger than the sequence are the extremes. D = 24 and 20 exercise
        // the GEMM's 8-wide and scalar column edges.
        let s = Shape(batch: 1, heads: 2, kvHeads: 2, seq: 77, dim: 24)
        let x = Inputs(s, seed: 7)
        let want = reference(s, x)
        for (bq, bk) in [(7, 13), (13, 7), (1, 1), (5, 64), (64, 5), (200, 200), (64, 64)] {
            for gemm in Self.gemms {
                assertClose(try run("flash", Self.flashParameters(blockQ: bq, blockK: bk, gemm: gemm), s, x), want,
                            "\(s) tiles \(bq)x\(bk) gemm \(gemm)")
            }
        }
        let s2 = Shape(batch: 2, heads: 1, kvHeads: 1, seq: 50, dim: 20)
        let x2 = Inputs(s2, seed: 8)
        assertClose(try run("flash", Self.flashParameters(blockQ: 12, blockK: 20), s2, x2), reference(s2, x2), "\(s2) tiles 12x20")
    }

    func testGroupedQueryAttentionMatchesReference() throws {
        // kv_heads < n_head: query head h reads kv head h / (n_head / kv_heads); dK and dV sum
        // over the query heads of a group.
        for (kv, seq) in [(2, 33), (1, 100), (2, 100), (4, 20)] {
            let s = Shape(batch: 2, heads: 4, kvHeads: kv, seq: seq, dim: 16)
            let x = Inputs(s, seed: UInt64(kv * 1000 + seq))
            let want = reference(s, x)
            for gemm in Self.gemms {
                assertClose(try run("flash", Self.flashParameters(blockQ: 16, blockK: 16, kvHeads: kv, gemm: gemm), s, x),
                            want, "\(s) gemm \(gemm)")
            }
        }
    }

    func testCustomScaleMatchesReferenceOnRescaledQueries() throws {
        // softmax(scale * q.k) = softmax((c q).k / sqrt(D)) with c = scale * sqrt(D); so the
        // reference on c*q gives out, dk, dv directly and dq = c * d(c q).
        let s = Shape(batch: 1, heads: 2, kvHeads: 2, seq: 40, dim: 16)
        let x = Inputs(s, seed: 21)
        let scale = 0.3, c = scale * Double(s.dim).squareRoot()
        var ref = ReferenceAttention(batch: s.batch, heads: s.heads, kvHeads: s.kvHeads, seq: s.seq, dim: s.dim)
            .run(q: x.q.map { Double($0) * c }, k: x.k.map(Double.init), v: x.v.map(Double.init), dOut: x.dOut.map(Double.init))
        ref.dq = ref.dq.map { $0 * c }
        for gemm in Self.gemms {
            assertClose(try run("flash", Self.flashParameters(blockQ: 16, blockK: 16, scale: scale, gemm: gemm), s, x), ref,
                        "scale \(scale) gemm \(gemm)")
        }
    }

    // MARK: - Against causal_dense

    func testEqualsCausalDenseOnRandomInputs() throws {
        // The composed attention through the host's autograd is the second, independent
        // implementation; both are float32, so they agree to float32 rounding.
        let shapes = [Shape(batch: 2, heads: 4, kvHeads: 4, seq: 77, dim: 32), Shape(batch: 1, heads: 2, kvHeads: 2, seq: 256, dim: 64),
                      Shape(batch: 3, heads: 3, kvHeads: 3, seq: 130, dim: 48), Shape(batch: 4, heads: 2, kvHeads: 2, seq: 16, dim: 16),
                      Shape(batch: 1, heads: 2, kvHeads: 2, seq: 70, dim: 128)]  // D = 128: the host-sgemm path shrinks its tiles
        for (i, s) in shapes.enumerated() {
            let x = Inputs(s, seed: UInt64(500 + i))
            let dense = try run("causal_dense", ["scale": .number(0)], s, x)
            let want = (out: dense.out.map(Double.init), dq: dense.dq.map(Double.init), dk: dense.dk.map(Double.init),
                        dv: dense.dv.map(Double.init))
            for gemm in Self.gemms {
                assertClose(try run("flash", Self.flashParameters(gemm: gemm), s, x), want, "\(s) vs causal_dense, gemm \(gemm)",
                            atol: 2e-5, rtol: 2e-4)
            }
        }
    }

    func testPackedViewsMatchDenseCopies() throws {
        // flash declares `strided`, so the model hands it views into the packed qkv projection
        // [B, T, (H + 2 KV) D] and into the merged output, and its gradient lands in place in
        // h's. The same kernel on dense copies (split, transposed, merged by host ops) must give
        // the same numbers: only the addressing differs. An existing gradient of h is added to.
        let shapes = [Shape(batch: 2, heads: 4, kvHeads: 4, seq: 37, dim: 16), Shape(batch: 3, heads: 4, kvHeads: 2, seq: 70, dim: 8),
                      Shape(batch: 1, heads: 3, kvHeads: 1, seq: 129, dim: 32)]
        for (i, s) in shapes.enumerated() {
            for gemm in Self.gemms {
                let attn = try AttentionInstance(registry: Self.registry, name: "flash",
                                                 parameters: Self.flashParameters(blockQ: 32, blockK: 16, kvHeads: s.kvHeads, gemm: gemm),
                                                 nHead: s.heads, headDim: s.dim, blockSize: s.seq, layer: 0, nLayer: 1)
                XCTAssertTrue(attn.strided)
                let width = (s.heads + 2 * s.kvHeads) * s.dim, c = s.heads * s.dim
                var rng = RandomGenerator(seed: UInt64(700 + i))
                let hValues = (0..<(s.batch * s.seq * width)).map { _ in Float(rng.normal()) }
                let weights = Tensor(shape: [s.batch, s.seq, c], values: (0..<(s.batch * s.seq * c)).map { _ in Float(rng.normal()) })
                let prior = (0..<hValues.count).map { _ in Float(rng.normal()) }

                let packedH = Tensor(shape: [s.batch, s.seq, width], values: hValues, requiresGrad: true)
                packedH.grad = Tensor(shape: packedH.shape, values: prior)
                let packed = try attn.forwardPacked(packedH, nHead: s.heads, headDim: s.dim)
                XCTAssertEqual(packed.shape, [s.batch, s.seq, c])
                try Ops.sumAll(try Ops.mul(packed, weights)).backward()

                let denseH = Tensor(shape: [s.batch, s.seq, width], values: hValues, requiresGrad: true)
                func heads(_ start: Int, _ count: Int) throws -> Tensor {
                    let part = try Ops.slice(denseH, dim: 2, start: start * s.dim, length: count * s.dim)
                    return try Ops.transpose(try Ops.reshape(part, [s.batch, s.seq, count, s.dim]), 1, 2)
                }
                let y = try attn.forward(q: try heads(0, s.heads), k: try heads(s.heads, s.kvHeads),
                                         v: try heads(s.heads + s.kvHeads, s.kvHeads))
                let dense = try Ops.reshape(try Ops.transpose(y, 1, 2), [s.batch, s.seq, c])
                try Ops.sumAll(try Ops.mul(dense, weights)).backward()

                XCTAssertEqual(packed.values, dense.values, "\(s) gemm \(gemm): output")
                let got = packedH.grad!.values, want = denseH.grad!.values
                for j in 0..<got.count {
                    XCTAssertEqual(got[j], prior[j] + want[j], accuracy: 1e-5 * max(1, abs(prior[j])), "\(s) gemm \(gemm): dh[\(j)]")
                }
            }
        }
    }

    func testEvaluationForwardGivesTheTrainingOutput() throws {
        // needs_backward = 0 (no autograd recording) skips saving the log-sum-exps but must not
        // change the arithmetic: the outputs are bit-identical, and nothing is recorded.
        let s = Shape(batch: 2, heads: 2, kvHeads: 2, seq: 45, dim: 16)
        let x = Inputs(s, seed: 9)
        let attn = try AttentionInstance(registry: Self.registry, name: "flash", parameters: Self.flashParameters(blockQ: 16, blockK: 32),
                                         nHead: s.heads, headDim: s.dim, blockSize: s.seq, layer: 0, nLayer: 1)
        let q = Tensor(shape: s.q, values: x.q, requiresGrad: true)
        let k = Tensor(shape: s.kv, values: x.k, requiresGrad: true)
        let v = Tensor(shape: s.kv, values: x.v, requiresGrad: true)
        let training = try attn.forward(q: q, k: k, v: v)
        let evaluation = try Autograd.withNoGrad { try attn.forward(q: q, k: k, v: v) }
        XCTAssertTrue(training.requiresGrad)
        XCTAssertFalse(evaluation.requiresGrad)
        XCTAssertEqual(training.values, evaluation.values)
        XCTAssertLessThanOrEqual(toleranceRatio(evaluation.values, reference(s, x).out), 1)
    }

    // MARK: - Configuration

    func testSchemaAndLayoutValidation() throws {
        let schema = try XCTUnwrap(Self.registry.info(named: "flash").first { $0.kind == .attention })
        let byName = Dictionary(uniqueKeysWithValues: schema.parameters.map { ($0.name, $0) })
        XCTAssertEqual(Set(byName.keys), ["block_q", "block_k", "scale", "kv_heads", "gemm", "rope_base"])
        XCTAssertEqual(byName["block_q"]?.defaultValue, .number(64))
        XCTAssertEqual(byName["block_k"]?.defaultValue, .number(64))
        XCTAssertEqual(byName["block_q"]?.min, 1)
        XCTAssertEqual(byName["scale"]?.defaultValue, .number(0))
        XCTAssertEqual(byName["kv_heads"]?.defaultValue, .number(0))
        XCTAssertEqual(byName["gemm"]?.choices, ["auto", "plugin", "plugin_avx2", "host"])
        XCTAssertEqual(schema.version, "1.0.0")

        // kv_heads must divide n_head: refused at create, naming the parameter.
        XCTAssertThrowsError(try AttentionInstance(registry: Self.registry, name: "flash", parameters: Self.flashParameters(kvHeads: 3),
                                                   nHead: 4, headDim: 8, blockSize: 16, layer: 0, nLayer: 1)) { error in
            XCTAssertTrue("\(error)".contains("kv_heads"), "\(error)")
        }
        // kv_heads = 0 means n_head; 2 of 4 is grouped-query attention.
        let full = try AttentionInstance(registry: Self.registry, name: "flash", parameters: Self.flashParameters(),
                                         nHead: 4, headDim: 8, blockSize: 16, layer: 0, nLayer: 1)
        XCTAssertEqual(full.kvHeads, 4)
        let grouped = try AttentionInstance(registry: Self.registry, name: "flash", parameters: Self.flashParameters(kvHeads: 2),
                                            nHead: 4, headDim: 8, blockSize: 16, layer: 0, nLayer: 1)
        XCTAssertEqual(grouped.kvHeads, 2)
        // Inputs whose head size differs from the one the instance was created for are refused.
        XCTAssertThrowsError(try grouped.forward(q: Tensor(zeros: [1, 4, 5, 4]), k: Tensor(zeros: [1, 2, 5, 4]), v: Tensor(zeros: [1, 2, 5, 4]))) { error in
            XCTAssertTrue("\(error)".contains("fused_forward"), "\(error)")
        }
    }

    // MARK: - End to end

    private func stepLosses(attention: ComponentSelection, steps: Int) throws -> [Double] {
        var config = TrainingTests.config(runDir: try PluginBuilder.temporaryDirectory("flash-run").path, steps: steps)
        config.attention = attention
        config.train.logInterval = 1
        config.evaluators = []
        var losses: [Double] = []
        let session = try TrainingTests.session(config, registry: Self.registry) { p in
            if p.kind == .step { losses.append(p.loss) }
        }
        let result = try session.train()
        XCTAssertEqual(result.steps, steps)
        return losses
    }

    func testTrainingWithFlashFollowsCausalDense() throws {
        let steps = 40
        let flash = try stepLosses(attention: ComponentSelection(kind: .attention, name: "flash", parameters: Self.flashParameters()),
                                   steps: steps)
        let dense = try stepLosses(attention: ComponentSelection(kind: .attention, name: "causal_dense", parameters: ["scale": .number(0)]),
                                   steps: steps)
        XCTAssertEqual(flash.count, steps)
        XCTAssertEqual(dense.count, steps)
        // Same seed, same data, same maths: the trajectories agree while float32 rounding
        // differences are still small.
        for i in 0..<10 {
            XCTAssertEqual(flash[i], dense[i], accuracy: 1e-3, "step \(i + 1): flash \(flash[i]) vs causal_dense \(dense[i])")
        }
        XCTAssertLessThan(flash.suffix(5).reduce(0, +) / 5, flash.prefix(5).reduce(0, +) / 5 - 0.5, "loss should fall: \(flash)")
    }

    func testConfigSelectsGroupedFlashAndFillsDefaults() throws {
        // The user's path: a config names the attention and sets only kv_heads; the config layer
        // fills the other parameters from flash's schema, the model gets one kv head, and the
        // run learns.
        let work = try PluginBuilder.temporaryDirectory("flash-config")
        let corpus = work.appendingPathComponent("corpus.txt")
        try TrainingTests.corpus.write(to: corpus, atomically: true, encoding: .utf8)
        let config = work.appendingPathComponent("run.yaml")
        try """
        data: { path: \(corpus.path) }
        model: { n_layer: 2, n_head: 4, n_embd: 32, block_size: 24 }
        attention: { name: flash, kv_heads: 1, block_q: 8 }
        train: { steps: 30, batch_size: 8, warmup_steps: 3, eval_interval: 30, eval_batches: 2, log_interval: 1 }
        run: { dir: \(work.appendingPathComponent("run").path) }
        """.write(to: config, atomically: true, encoding: .utf8)
        let layers = try ConfigLoader.load(file: config.path, environment: [:], overrides: [])
        let resolved = try layers.resolve(schemas: Self.registry)
        XCTAssertEqual(resolved.config.attention.name, "flash")
        XCTAssertEqual(resolved.config.attention.parameters,
                       ["block_q": .number(8), "block_k": .number(64), "scale": .number(0), "kv_heads": .number(1), "gemm": .string("auto"),
                        "rope_base": .number(0)])

        var losses: [Double] = []
        let session = try Session(config: resolved.config, registry: Self.registry, data: .text(TrainingTests.corpus))
        session.progress = { p in if p.kind == .step { losses.append(p.loss) }; return .proceed }
        let qkv = try XCTUnwrap(session.parameter(named: "blocks.0.attn.qkv.weight"))
        XCTAssertEqual(qkv.shape, [(4 + 2 * 1) * 8, 32], "q for 4 heads, k and v for one kv head")
        _ = try session.train()
        XCTAssertEqual(losses.count, 30)
        XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(losses)")
        XCTAssertLessThan(losses.suffix(5).reduce(0, +) / 5, losses.prefix(5).reduce(0, +) / 5 - 0.3, "loss should fall: \(losses)")
    }

    func testWholeModelGradientWithGroupedFlashMatchesFiniteDifferences() throws {
        // A GPT whose attention is flash with one kv head (multi-query): the model's qkv
        // projection follows the layout, and the fused backward must agree with central
        // differences of the loss through every parameter.
        let attention = ComponentSelection(kind: .attention, name: "flash", parameters: Self.flashParameters(blockQ: 2, blockK: 3, kvHeads: 1))
        let model = try GPT(config: GPTConfig(nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 5, vocabSize: 5),
                            attention: attention, registry: Self.registry, seed: 3)
        for p in model.parameters {  // larger weights so every path carries signal
            for i in 0..<p.count { p.data[i] = p.data[i] * 10 + (p.ndim == 1 ? 1 : 0) }
        }
        let ids: [Int32] = [0, 1, 2, 3, 4, 4, 3, 2, 1, 0], targets: [Int32] = [1, 2, 3, 4, 3, 3, 2, 1, 0, 4]
        try model.loss(ids: ids, targets: targets, batch: 2, seq: 5).loss.backward()
        var rng = RandomGenerator(seed: 9)
        for p in model.parameters {
            let grad = p.grad!.values
            for _ in 0..<3 {
                let i = rng.below(p.count), saved = p.data[i], eps: Float = 1e-3
                func loss() throws -> Double {
                    Double(try Autograd.withNoGrad { try model.loss(ids: ids, targets: targets, batch: 2, seq: 5).loss.item })
                }
                p.data[i] = saved + eps; let up = try loss()
                p.data[i] = saved - eps; let down = try loss()
                p.data[i] = saved
                let numeric = (up - down) / Double(2 * eps)
                XCTAssertEqual(Double(grad[i]), numeric, accuracy: 2e-3 + 3e-2 * abs(numeric), "\(p.name!)[\(i)]")
            }
        }
    }
}
