@testable import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// Persistent instance constants (ABI 1.2 `constant_new`), with Fixtures/constants.c: made in
/// create, valid in every later call on the instance, freed with it, refused afterwards.
final class InstanceConstantsTests: XCTestCase {
    private static let registry = try! PluginBuilder.fixtureRegistry("constants.c")
    private let blockSize = 7, headDim = 3

    private func instance(stale: Bool) throws -> AttentionInstance {
        try AttentionInstance(registry: Self.registry, name: "constants", parameters: ["stale": .number(stale ? 1 : 0)],
                              nHead: 2, headDim: headDim, blockSize: blockSize, layer: 0, nLayer: 1)
    }

    /// c[t, d] = t + d / 100, as the fixture builds it.
    private func constant(_ t: Int, _ d: Int) -> Float { Float(t) + Float(d) / 100 }

    func testAConstantMadeInCreateServesEveryForwardAndIsFreedWithTheInstance() throws {
        weak var table: Tensor?
        var rng = RandomGenerator(seed: 4)
        // The instance lives only inside this function.
        func use() throws {
            let attention = try instance(stale: false)
            XCTAssertEqual(attention.constants.tensors.count, 1)
            table = attention.constants.tensors.first
            XCTAssertEqual(table?.shape, [blockSize, headDim])
            for call in 0..<60 {
                let seq = 1 + call % blockSize
                let q = Tensor.randn([2, 2, seq, headDim], rng: &rng, requiresGrad: true)
                let k = Tensor(zeros: [2, 2, seq, headDim]), v = Tensor(zeros: [2, 2, seq, headDim])
                let out = try attention.forward(q: q, k: k, v: v)
                for i in 0..<q.count {
                    let d = i % headDim, t = (i / headDim) % seq
                    XCTAssertEqual(out.data[i], q.data[i] + constant(t, d), "call \(call), element \(i)")
                }
                try Ops.sumAll(out).backward()
                XCTAssertEqual(q.grad?.values, [Float](repeating: 1, count: q.count), "the gradient reaches q")
                XCTAssertNil(table?.grad, "a constant gets no gradient")
                XCTAssertFalse(table?.requiresGrad ?? true)
            }
        }
        try use()
        XCTAssertNil(table, "the constant is freed with its instance")
    }

    func testAConstantOfADestroyedInstanceIsRefused() throws {
        // Inputs first, so that no tensor allocated later can take the freed constant's address.
        let q = Tensor(zeros: [1, 2, 4, headDim]), k = Tensor(zeros: [1, 2, 4, headDim]), v = Tensor(zeros: [1, 2, 4, headDim])
        weak var table: Tensor?
        func use() throws {
            let first = try instance(stale: false)
            table = first.constants.tensors.first
            _ = try first.forward(q: q, k: k, v: v)
        }
        try use()
        XCTAssertNil(table)
        let later = try instance(stale: true)  // makes no constant; uses the global handle of the first
        XCTAssertThrowsError(try later.forward(q: q, k: k, v: v)) { error in
            XCTAssertTrue("\(error)".contains("slice: not a tensor handle of this call"), "\(error)")
        }
    }

    func testConstantsWorkThroughTrainingAndSampling() throws {
        // alibi builds its bias as a constant in create: a short training run and sampling use it
        // in every forward of every layer.
        var config = TrainingTests.config(runDir: try PluginBuilder.temporaryDirectory("alibi-constants").path, steps: 6)
        config.attention = ComponentSelection(kind: .attention, name: "alibi",
                                              parameters: ["max_bias": .number(8), "scale": .number(0)])
        config.model.positionEmbedding = false
        config.train.evalInterval = 3
        let session = try TrainingTests.session(config)
        let result = try session.train()
        XCTAssertTrue(result.finalLoss.isFinite)
        XCTAssertEqual(try session.sample(prompt: "th", tokens: 20, topK: 1).count, 20)
    }
}
