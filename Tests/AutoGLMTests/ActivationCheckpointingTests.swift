import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// `train.activation_checkpointing: blocks` recomputes each block in the backward: the losses and
/// gradients are those of the unchecked model bit for bit (checked through the parameters after
/// a few AdamW steps, which differ at once when any gradient bit does), with composed and fused
/// (strided) attention, in fp32 and bf16.
final class ActivationCheckpointingTests: XCTestCase {
    /// Parameters and per-step losses after `steps` steps of `config` with `checkpointing`.
    private func train(_ config: RunConfig, _ checkpointing: ActivationCheckpointing, steps: Int) throws -> (params: [[UInt32]], losses: [Double]) {
        var c = config
        c.train.activationCheckpointing = checkpointing
        c.run.dir = try PluginBuilder.temporaryDirectory("ckpt").path
        var losses: [Double] = []
        let session = try TrainingTests.session(c) { p in if p.kind == .step { losses.append(p.loss) } }
        XCTAssertEqual(session.model.activationCheckpointing, checkpointing)
        _ = try session.train(steps: steps)
        return (session.model.parameters.map { $0.values.map(\.bitPattern) }, losses)
    }

    func testGradientsAreBitIdenticalWithAndWithoutCheckpointing() throws {
        for attention in ["causal_dense", "flash"] {
            for precision in [Precision.fp32, .bf16] {
                var c = TrainingTests.config(runDir: "", steps: 3)
                c.attention = ComponentSelection(kind: .attention, name: attention)
                c.train.precision = precision
                let plain = try train(c, .none, steps: 3), checked = try train(c, .blocks, steps: 3)
                XCTAssertEqual(plain.losses.count, 3)
                XCTAssertEqual(plain.losses.map(\.bitPattern), checked.losses.map(\.bitPattern), "\(attention) \(precision): losses")
                for (i, (a, b)) in zip(plain.params, checked.params).enumerated() {
                    XCTAssertEqual(a, b, "\(attention) \(precision): parameter \(i) differs after 3 steps")
                }
            }
        }
    }

    /// The checkpointed forward keeps only block outputs: the direct check on gradients of one
    /// backward, against the same model unchecked.
    func testOneBackwardGivesTheSameGradients() throws {
        var c = TrainingTests.config(runDir: try PluginBuilder.temporaryDirectory("ckpt").path, steps: 1)
        c.attention = ComponentSelection(kind: .attention, name: "flash")
        let session = try TrainingTests.session(c)
        let model = session.model
        let ids = (0..<32).map { Int32($0 % 7) }, targets = (0..<32).map { Int32(($0 + 1) % 7) }
        var grads: [[[UInt32]]] = []
        for mode in [ActivationCheckpointing.none, .blocks] {
            model.activationCheckpointing = mode
            for p in model.parameters { p.grad = nil }
            try WorkerPool(threads: 2).run {
                try model.loss(ids: ids, targets: targets, batch: 2, seq: 16).loss.backward()
            }
            grads.append(model.parameters.map { $0.grad!.values.map(\.bitPattern) })
        }
        XCTAssertEqual(grads[0], grads[1])
    }
}
