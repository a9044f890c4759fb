@testable import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// The bundled `rope` attention (rotation by the host's rotary op, or composed from slice,
/// concat, mul and add with constant tables) and `flash` with fused RoPE (`rope_base`), forward
/// and backward, against a float64 reference written from RoFormer's rotate-half form: rotate q
/// and k to their positions, run the reference attention, turn dq and dk back (the gradient of
/// a rotation is its transpose). Then both through training, without position embeddings.
final class RotaryAttentionTests: XCTestCase {
    private static let registry = PluginBuilder.bundledRegistry()

    override func setUp() { TensorStorage.poisonsUninitialized = true }
    override func tearDown() { TensorStorage.poisonsUninitialized = false }

    /// [batch, heads, seq, dim] rows turned to their positions (t) by angle t * base^(-2i/dim),
    /// in Double; `inverse` turns them back.
    static func rotate(_ x: [Double], seq: Int, dim: Int, base: Double, inverse: Bool = false) -> [Double] {
        var y = x
        let half = dim / 2
        for row in 0..<(x.count / dim) {
            let t = Double(row % seq)
            for i in 0..<half {
                let angle = t * pow(base, -2 * Double(i) / Double(dim))
                let c = cos(angle), s = inverse ? -sin(angle) : sin(angle)
                let a = x[row * dim + i], b = x[row * dim + i + half]
                y[row * dim + i] = a * c - b * s
                y[row * dim + i + half] = b * c + a * s
            }
        }
        return y
    }

    private struct Case: CustomStringConvertible {
        let batch: Int, heads: Int, kvHeads: Int, seq: Int, dim: Int
        var description: String { "B\(batch) H\(heads) KV\(kvHeads) T\(seq) D\(dim)" }
    }

    private static let cases = [Case(batch: 2, heads: 2, kvHeads: 2, seq: 1, dim: 4), Case(batch: 2, heads: 3, kvHeads: 3, seq: 5, dim: 6),
                                Case(batch: 1, heads: 4, kvHeads: 2, seq: 13, dim: 8), Case(batch: 1, heads: 2, kvHeads: 1, seq: 7, dim: 16),
                                Case(batch: 1, heads: 2, kvHeads: 2, seq: 70, dim: 8)]

    /// Output and gradients of sum(out * r) through the host, and the float64 reference's.
    private func compare(_ name: String, _ parameters: [String: ParameterValue], _ c: Case, base: Double,
                         file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = RandomGenerator(seed: UInt64(c.seq * 31 + c.heads))
        func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.normal()) } }
        let qShape = [c.batch, c.heads, c.seq, c.dim], kShape = [c.batch, c.kvHeads, c.seq, c.dim]
        let qv = random(qShape.reduce(1, *)), kv = random(kShape.reduce(1, *)), vv = random(kShape.reduce(1, *))
        let rv = random(qShape.reduce(1, *))
        let attention = try AttentionInstance(registry: Self.registry, name: name, parameters: parameters, nHead: c.heads,
                                              headDim: c.dim, blockSize: max(c.seq, 16), layer: 0, nLayer: 1)
        XCTAssertEqual(attention.kvHeads, c.kvHeads, file: file, line: line)
        let q = Tensor(shape: qShape, values: qv, requiresGrad: true)
        let k = Tensor(shape: kShape, values: kv, requiresGrad: true)
        let v = Tensor(shape: kShape, values: vv, requiresGrad: true)
        let out = try attention.forward(q: q, k: k, v: v)
        try Ops.sumAll(try Ops.mul(out, Tensor(shape: qShape, values: rv))).backward()

        func d(_ x: [Float]) -> [Double] { x.map(Double.init) }
        let ref = ExtendedReferenceAttention(batch: c.batch, heads: c.heads, kvHeads: c.kvHeads, seq: c.seq, dim: c.dim)
            .run(q: Self.rotate(d(qv), seq: c.seq, dim: c.dim, base: base), k: Self.rotate(d(kv), seq: c.seq, dim: c.dim, base: base),
                 v: d(vv), dOut: d(rv))
        let want = (out: ref.out, dq: Self.rotate(ref.dq, seq: c.seq, dim: c.dim, base: base, inverse: true),
                    dk: Self.rotate(ref.dk, seq: c.seq, dim: c.dim, base: base, inverse: true), dv: ref.dv)
        let label = "\(name) \(parameters) \(c)"
        for (what, got, expected) in [("out", out.values, want.out), ("dq", q.grad!.values, want.dq),
                                      ("dk", k.grad!.values, want.dk), ("dv", v.grad!.values, want.dv)] {
            XCTAssertLessThanOrEqual(toleranceRatio(got, expected), 1, "\(what), \(label)", file: file, line: line)
        }
    }

    private func ropeParameters(base: Double = 10000, kvHeads: Int = 0, rotation: String = "op") -> [String: ParameterValue] {
        ["base": .number(base), "scale": .number(0), "kv_heads": .number(Double(kvHeads)), "rotation": .string(rotation)]
    }

    private func flashParameters(base: Double, kvHeads: Int = 0, gemm: String, block: Int) -> [String: ParameterValue] {
        FlashAttentionTests.flashParameters(blockQ: block, blockK: block + 3, kvHeads: kvHeads, gemm: gemm)
            .merging(["rope_base": .number(base)]) { $1 }
    }

    func testRopeMatchesFloat64ReferenceWithTheOpAndWithConstantTables() throws {
        for c in Self.cases {
            for rotation in ["op", "tables"] {
                for base in [10000.0, 7.0] {
                    try compare("rope", ropeParameters(base: base, kvHeads: c.kvHeads == c.heads ? 0 : c.kvHeads, rotation: rotation),
                                c, base: base)
                }
            }
        }
    }

    func testFlashWithFusedRopeMatchesFloat64Reference() throws {
        for c in Self.cases {
            for gemm in ["plugin", "host"] {
                for block in [4, 64] {
                    try compare("flash", flashParameters(base: 10000, kvHeads: c.kvHeads == c.heads ? 0 : c.kvHeads, gemm: gemm, block: block),
                                c, base: 10000)
                }
            }
        }
    }

    func testFusedRopeReadsPackedViewsAsDenseCopies() throws {
        // The model's path for flash: views straight into the packed qkv projection; the
        // rotation must read through them and turn the gradient back in place.
        let attention = try AttentionInstance(registry: Self.registry, name: "flash",
                                              parameters: flashParameters(base: 500, kvHeads: 2, gemm: "plugin", block: 4),
                                              nHead: AttentionConformance.heads, headDim: AttentionConformance.dim,
                                              blockSize: 16, layer: 0, nLayer: 1)
        XCTAssertTrue(attention.strided)
        var rng = RandomGenerator(seed: 2)
        let s = AttentionConformance.self
        let q = Tensor.randn([s.batch, s.heads, s.seq, s.dim], rng: &rng, requiresGrad: true)
        let k = Tensor.randn([s.batch, 2, s.seq, s.dim], rng: &rng, requiresGrad: true)
        let v = Tensor.randn([s.batch, 2, s.seq, s.dim], rng: &rng, requiresGrad: true)
        XCTAssertNoThrow(try AttentionConformance.stridedMatchesDense(attention, q, k, v, rng: &rng))
    }

    func testSchemasDocumentTheRotation() throws {
        let rope = try XCTUnwrap(Self.registry.info(named: "rope").first { $0.kind == .attention })
        let byName = Dictionary(uniqueKeysWithValues: rope.parameters.map { ($0.name, $0) })
        XCTAssertEqual(Set(byName.keys), ["base", "scale", "kv_heads", "rotation"])
        XCTAssertEqual(byName["base"]?.rangeDescription, "> 0")
        XCTAssertEqual(byName["base"]?.defaultValue, .number(10000))
        XCTAssertEqual(byName["rotation"]?.choices, ["op", "tables"])
        XCTAssertTrue(rope.decodes)
        let flash = try XCTUnwrap(Self.registry.info(named: "flash").first { $0.kind == .attention })
        XCTAssertEqual(flash.parameters.first { $0.name == "rope_base" }?.defaultValue, .number(0))
        // An odd head size cannot be rotated: refused at create, naming the fix.
        XCTAssertThrowsError(try AttentionInstance(registry: Self.registry, name: "rope", parameters: ropeParameters(),
                                                   nHead: 2, headDim: 5, blockSize: 8, layer: 0, nLayer: 1)) { error in
            XCTAssertTrue("\(error)".contains("head_dim = 5 is odd"), "\(error)")
        }
        XCTAssertThrowsError(try AttentionInstance(registry: Self.registry, name: "flash",
                                                   parameters: flashParameters(base: 10000, gemm: "auto", block: 64),
                                                   nHead: 2, headDim: 5, blockSize: 8, layer: 0, nLayer: 1)) { error in
            XCTAssertTrue("\(error)".contains("rope_base > 0 needs an even head_dim"), "\(error)")
        }
    }

    func testTrainingWithFusedRopeFollowsComposedRope() throws {
        func losses(_ attention: ComponentSelection) throws -> [Double] {
            var config = TrainingTests.config(runDir: try PluginBuilder.temporaryDirectory("rope-run").path, steps: 30)
            config.attention = attention
            config.model.positionEmbedding = false
            config.train.logInterval = 1
            config.evaluators = []
            var out: [Double] = []
            let session = try TrainingTests.session(config, registry: Self.registry) { p in if p.kind == .step { out.append(p.loss) } }
            _ = try session.train()
            return out
        }
        let composed = try losses(ComponentSelection(kind: .attention, name: "rope", parameters: ropeParameters()))
        let fused = try losses(ComponentSelection(kind: .attention, name: "flash",
                                                  parameters: flashParameters(base: 10000, gemm: "auto", block: 64)))
        XCTAssertEqual(composed.count, 30)
        for i in 0..<10 { XCTAssertEqual(fused[i], composed[i], accuracy: 1e-3, "step \(i + 1)") }
        XCTAssertLessThan(composed.suffix(5).reduce(0, +) / 5, composed.prefix(5).reduce(0, +) / 5 - 0.5, "loss should fall: \(composed)")
    }
}
