@testable import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// What ABI 1.2 tells an optimizer besides the gradient, read back by Fixtures/optimizer_probe.c
/// (it writes them into the weights): the parameter's role, its own update counter next to the
/// global step, the worker index of parallel_for_worker chunks; the counters in the
/// checkpointed state; the error prefix naming the step and the parameter; and `muon` choosing
/// its update by role, whatever the names.
final class OptimizerArgumentsTests: XCTestCase {
    private static let registry = try! PluginBuilder.bundledRegistry(adding: ["optimizer_probe.c"])

    private func parameter(_ name: String, _ shape: [Int]) -> Tensor {
        let t = Tensor(zeros: shape, requiresGrad: true)
        t.name = name
        return t
    }

    func testRolesPerParameterStepsAndWorkerIndices() throws {
        let a = parameter("a", [6, 6]), b = parameter("b", [8]), c = parameter("c", [2, 3])
        let optimizer = try OptimizerInstance(registry: Self.registry, name: "probe", parameters: ["fail_on": .string("")],
                                              modelParameters: [a, b, c], roles: [.hidden, [.embedding, .head]])
        for step in 1...4 {
            for p in [a, b] { p.grad = Tensor(zeros: p.shape) }
            c.grad = step % 2 == 0 ? Tensor(zeros: c.shape) : nil  // c misses steps 1 and 3
            try optimizer.step(lr: 0.1, step: step)
        }
        XCTAssertEqual(Array(a.values[0..<3]), [4, 4, Float(ParameterRole.hidden.rawValue)])
        XCTAssertEqual(Array(b.values[0..<3]), [4, 4, Float(ParameterRole([.embedding, .head]).rawValue)])
        XCTAssertEqual(Array(c.values[0..<3]), [2, 4, 0], "c was updated twice by step 4; no role given")
        // parallel_for_worker over the 32 elements after the header: chunk w of ceil(32 / w) has index w.
        let workers = Int(a.values[3])
        XCTAssertEqual(workers, Kernels.threads)
        let chunks = min(workers, 32), size = (32 + chunks - 1) / chunks
        XCTAssertEqual(Array(a.values[4...]), (0..<32).map { Float($0 / size) })

        // The counters are part of the optimizer state, as "<param>/_step" (exact in two words).
        let counters = optimizer.stateTensors.filter { $0.name.hasSuffix("/_step") }
        XCTAssertEqual(counters.map(\.name), ["a/_step", "b/_step", "c/_step"])
        XCTAssertEqual(counters.map { $0.tensor.values }, [[0, 4], [0, 4], [0, 2]])
        optimizer.resetUpdateCounts(to: (1 << 24) + 5)
        XCTAssertEqual(counters[0].tensor.values, [1, 5])
        a.grad = Tensor(zeros: a.shape)
        b.grad = nil
        c.grad = nil
        try optimizer.step(lr: 0.1, step: 9)
        XCTAssertEqual(Array(a.values[0..<2]), [Float((1 << 24) + 6), 9])
    }

    func testAnOptimizerErrorNamesTheStepAndTheParameter() throws {
        let w = parameter("blocks.0.attn.qkv.weight", [2, 4])
        let optimizer = try OptimizerInstance(registry: Self.registry, name: "probe",
                                              parameters: ["fail_on": .string("blocks.0.attn.qkv.weight")], modelParameters: [w])
        w.grad = Tensor(zeros: w.shape)
        XCTAssertThrowsError(try optimizer.step(lr: 0.1, step: 7)) { error in
            XCTAssertTrue("\(error)".hasSuffix("component 'probe' at step 7: step, parameter 'blocks.0.attn.qkv.weight': refusing to update (fail_on) (status AGLM_ERR_NUMERIC)"),
                          "\(error)")
        }
    }

    func testMuonChoosesItsPathByRoleNotByName() throws {
        let names = ["token_embedding.weight", "lm_head.weight", "blocks.0.mlp.fc.weight", "x", "gain"]
        let params = zip(names, [[5, 4], [5, 4], [4, 4], [3, 4], [4]]).map { parameter($0, $1) }
        let roles: [ParameterRole] = [[.embedding, .head], .hidden, [.embedding], .hidden, .norm]
        let muon = try OptimizerInstance(registry: Self.registry, name: "muon",
                                         parameters: Self.registry.defaultParameters(kind: .optimizer, name: "muon"),
                                         modelParameters: params, roles: roles)
        let states = Dictionary(grouping: muon.stateTensors.map(\.name).filter { !$0.hasSuffix("/_step") }) {
            String($0.split(separator: "/").first ?? "")
        }.mapValues { $0.map { String($0.split(separator: "/").last ?? "") }.sorted() }
        // "lm_head.weight" is a hidden matrix here and "blocks.0.mlp.fc.weight" an embedding:
        // the roles decide, not the names.
        XCTAssertEqual(states["token_embedding.weight"], ["exp_avg", "exp_avg_sq"])
        XCTAssertEqual(states["lm_head.weight"], ["momentum_buffer"])
        XCTAssertEqual(states["blocks.0.mlp.fc.weight"], ["exp_avg", "exp_avg_sq"])
        XCTAssertEqual(states["x"], ["momentum_buffer"])
        XCTAssertEqual(states["gain"], ["exp_avg", "exp_avg_sq"])
        XCTAssertFalse(muon.info.parameters.contains { $0.name == "adamw_names" })
    }

    func testTheModelGivesEveryParameterItsRole() throws {
        let config = GPTConfig(nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 4, vocabSize: 5)
        let gpt = try GPT(config: config, attention: ComponentSelection(kind: .attention, name: "causal_dense", parameters: ["scale": .number(0)]),
                          registry: Self.registry, seed: 1)
        let roles = Dictionary(uniqueKeysWithValues: zip(gpt.parameters.map { $0.name ?? "" }, gpt.parameterRoles))
        XCTAssertEqual(gpt.parameterRoles.count, gpt.parameters.count)
        XCTAssertEqual(roles["token_embedding.weight"], [.embedding, .head])
        XCTAssertEqual(roles["position_embedding.weight"], .embedding)
        XCTAssertEqual(roles["blocks.0.norm1.weight"], .norm)
        XCTAssertEqual(roles["blocks.0.attn.qkv.weight"], .hidden)
        XCTAssertEqual(roles["blocks.0.mlp.out.weight"], .hidden)
        XCTAssertEqual(roles["final_norm.weight"], .norm)
    }
}
