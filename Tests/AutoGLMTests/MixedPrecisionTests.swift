@testable import AutoGLM
import AutoGLMCore
import CAutoGLM
import Foundation
import XCTest

/// `train.precision: bf16` end to end: the tiny model trains to the fp32 run's loss on the
/// native path and on the fallback (forced through `run.isa`); the fused attentions get
/// bfloat16-rounded q, k, v (as bfloat16 views for `flash`, which accepts them, as float32 views
/// of the same values for `linear`, which does not).
final class MixedPrecisionTests: XCTestCase {
    private static let registry = PluginBuilder.bundledRegistry()

    /// bfloat16's unit roundoff (8 significant bits).
    static let u = 0x1p-8

    /// x rounded to 8 significant bits, nearest, ties to even (normal numbers), in Double.
    static func bf16(_ x: Float) -> Float {
        guard x.isNormal else { return x }
        let ulp = Double(sign: .plus, exponent: Int(x.exponent) - 7, significand: 1)
        return Float((Double(x) / ulp).rounded(.toNearestOrEven) * ulp)
    }

    /// Final validation loss of the tiny recipe with `precision` on `isa`.
    private func valLoss(_ precision: Precision, isa: ISAChoice) throws -> Double {
        var c = TrainingTests.config(runDir: try PluginBuilder.temporaryDirectory("bf16").path, steps: 80)
        c.attention = ComponentSelection(kind: .attention, name: "flash")
        c.train.precision = precision
        c.run.isa = isa
        let session = try TrainingTests.session(c)
        let result = try session.train()
        return try XCTUnwrap(result.metrics.first { $0.name == "val/loss" }).value
    }

    func testBF16TrainsToTheFP32LossOnTheNativeAndTheFallbackPath() throws {
        let fp32 = try valLoss(.fp32, isa: .auto)
        var paths: [ISAChoice] = [.baseline]
        if KernelPath.detected >= .avx2 { paths.append(.avx2) }
        if KernelPath.detected == .avx512BF16 { paths.append(.avx512BF16) }
        for isa in paths {
            let bf16 = try valLoss(.bf16, isa: isa)
            XCTAssertNotEqual(bf16, fp32, "\(isa.rawValue): bf16 changed nothing")
            XCTAssertEqual(bf16, fp32, accuracy: 0.05, "\(isa.rawValue): bf16 val loss \(bf16), fp32 \(fp32)")
        }
    }

    /// `linear` (fused, no bf16 flag) in a bf16 run computes exactly what it computes in fp32 on
    /// inputs rounded beforehand: the host hands it float32 views of the rounded values.
    func testANonAcceptingFusedAttentionGetsFloat32ViewsOfRoundedValues() throws {
        let attn = try AttentionInstance(registry: Self.registry, name: "linear", parameters: [:], nHead: 2, headDim: 8,
                                         blockSize: 16, layer: 0, nLayer: 1)
        XCTAssertFalse(attn.acceptsBF16)
        var rng = RandomGenerator(seed: 2)
        let shape = [2, 2, 16, 8], n = shape.reduce(1, *)
        let values = (0..<3).map { _ in (0..<n).map { _ in Float(rng.normal()) } }
        func run(_ inputs: [[Float]], _ precision: Precision) throws -> [[UInt32]] {
            let qkv = inputs.map { Tensor(shape: shape, values: $0, requiresGrad: true) }
            let out = try Autocast.with(precision) { try attn.forward(q: qkv[0], k: qkv[1], v: qkv[2]) }
            try Ops.sumAll(out).backward()
            return [out.values] .map { $0.map(\.bitPattern) } + qkv.map { $0.grad!.values.map(\.bitPattern) }
        }
        let rounded = values.map { Tensor(shape: [n], values: $0).roundedToBF16().values }
        XCTAssertEqual(try run(values, .bf16)[0], try run(rounded, .fp32)[0], "out")
        XCTAssertNotEqual(try run(values, .bf16)[0], try run(values, .fp32)[0], "the inputs were not rounded")
    }

    /// The host's two forms of the same rounded operand: bfloat16 for an accepting component,
    /// float32 otherwise, with the same values.
    func testTheOperandFormsHoldTheSameRoundedValues() throws {
        var rng = RandomGenerator(seed: 9)
        let t = Tensor(shape: [3, 5], values: (0..<15).map { _ in Float(rng.normal()) })
        Autocast.with(.bf16) {
            let operands = (AttentionOperand(t, bf16Views: true), AttentionOperand(t, bf16Views: false))
            let views = (operands.0.view(shape: [3, 5]), operands.1.view(shape: [3, 5]))
            let asBF16 = views.0.view, asFloat = views.1.view
            defer { withExtendedLifetime((operands, views)) {} }
            XCTAssertEqual(asBF16.dtype.code, UInt8(AGLM_DTYPE_BFLOAT.rawValue))
            XCTAssertEqual(asBF16.dtype.bits, 16)
            XCTAssertEqual(asFloat.dtype.bits, 32)
            let bits = UnsafeBufferPointer(start: asBF16.data.assumingMemoryBound(to: UInt16.self), count: 15)
            let floats = UnsafeBufferPointer(start: asFloat.data.assumingMemoryBound(to: Float.self), count: 15)
            for i in 0..<15 {
                XCTAssertEqual(UInt32(bits[i]) << 16, floats[i].bitPattern)
                XCTAssertEqual(floats[i], Self.bf16(t.values[i]))
            }
        }
        // fp32 runs pass the tensor itself.
        let plain = AttentionOperand(t, bf16Views: true), view = plain.view(shape: [3, 5])
        XCTAssertEqual(view.view.data, UnsafeMutableRawPointer(t.data))
        withExtendedLifetime((plain, view)) {}
    }

    /// `flash` with bfloat16 views: within bf16's precision of the float64 reference on the
    /// rounded inputs (its P, dO and dS are rounded to bfloat16 for the products), for its own
    /// kernels on each width and for the host's sgemm.
    func testFlashWithBF16ViewsAgainstTheFloat64Reference() throws {
        let b = 2, h = 4, kv = 2, t = 70, d = 16
        var rng = RandomGenerator(seed: 12)
        func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.normal()) } }
        let q = random(b * h * t * d), k = random(b * kv * t * d), v = random(b * kv * t * d), dOut = random(b * h * t * d)
        let r: (Float) -> Float = Self.bf16
        let want = ReferenceAttention(batch: b, heads: h, kvHeads: kv, seq: t, dim: d)
            .run(q: q.map { Double(r($0)) }, k: k.map { Double(r($0)) }, v: v.map { Double(r($0)) }, dOut: dOut.map(Double.init))
        var gemms = ["host"]
        if KernelPath.detected >= .avx2 { gemms += ["plugin", "plugin_avx2"] }
        for gemm in gemms {
            let attn = try AttentionInstance(registry: Self.registry, name: "flash",
                                             parameters: FlashAttentionTests.flashParameters(blockQ: 32, blockK: 16, kvHeads: kv, gemm: gemm),
                                             nHead: h, headDim: d, blockSize: t, layer: 0, nLayer: 1)
            XCTAssertTrue(attn.acceptsBF16)
            let tq = Tensor(shape: [b, h, t, d], values: q, requiresGrad: true)
            let tk = Tensor(shape: [b, kv, t, d], values: k, requiresGrad: true)
            let tv = Tensor(shape: [b, kv, t, d], values: v, requiresGrad: true)
            try Autocast.with(.bf16) {
                let out = try attn.forward(q: tq, k: tk, v: tv)
                try Ops.sumAll(try Ops.mul(out, Tensor(shape: [b, h, t, d], values: dOut))).backward()
                for (what, got, ref) in [("out", out.values, want.out), ("dq", tq.grad!.values, want.dq),
                                         ("dk", tk.grad!.values, want.dk), ("dv", tv.grad!.values, want.dv)] {
                    // relative to the largest reference entry: P (sums to 1), dO and dS rounded to
                    // bf16 bound the error by a few u of the largest terms
                    let scale = ref.map(abs).max()!
                    let worst = zip(got, ref).map { abs(Double($0) - $1) }.max()!
                    XCTAssertLessThanOrEqual(worst, 16 * Self.u * scale, "\(gemm) \(what)")
                    XCTAssertGreaterThan(worst, 1e-5 * scale, "\(gemm) \(what): no bf16 rounding inside")
                }
            }
        }
    }

    /// `autoglm bench` names the path, OpenBLAS's kernels, the precision and how bf16 GEMMs ran.
    func testTheBenchmarkNamesThePathAndThePrecision() throws {
        let isa: ISAChoice = KernelPath.detected >= .avx2 ? .avx2 : .baseline
        let result = try ThroughputBenchmark.run(preset: ThroughputBenchmark.presets["small"]!, threads: 2, warmup: 0, steps: 1,
                                                 overrides: ["train.precision=bf16", "run.isa=\(isa.rawValue)",
                                                             "train.activation_checkpointing=blocks"])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.json.utf8)) as? [String: Any])
        XCTAssertEqual(json["isa"] as? String, isa.rawValue)
        XCTAssertEqual(json["cpu_isa"] as? String, KernelPath.detected.name)
        XCTAssertEqual(json["precision"] as? String, "bf16")
        XCTAssertEqual(json["bf16_gemm"] as? String, "rounded_sgemm")
        XCTAssertEqual(json["activation_checkpointing"] as? String, "blocks")
        XCTAssertNotNil(json["blas_core"] as? String)
    }

    /// A path the CPU cannot run is refused with the key, its source and what to do.
    func testAPathAboveTheCPUsIsAConfigError() throws {
        guard KernelPath.detected < .avx512BF16 else {
            throw XCTSkip("this CPU runs every path (up to avx512_bf16): none is above it")
        }
        var c = TrainingTests.config(runDir: try PluginBuilder.temporaryDirectory("bf16").path, steps: 1)
        c.run.isa = .avx512BF16
        XCTAssertThrowsError(try TrainingTests.session(c)) {
            XCTAssertTrue("\($0)".contains("run.isa (avx512_bf16"), "\($0)")
            XCTAssertTrue("\($0)".contains("use auto or a lower path"), "\($0)")
        }
    }

    /// The run records its path in run.json.
    func testRunJSONRecordsThePath() throws {
        var c = TrainingTests.config(runDir: try PluginBuilder.temporaryDirectory("bf16").path, steps: 1)
        c.run.isa = .baseline
        _ = try TrainingTests.session(c).train()
        let record = try RunDirectory.readRecord(URL(fileURLWithPath: c.run.dir))
        XCTAssertEqual(record.isa, "baseline")
    }
}
