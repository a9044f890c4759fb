import AutoGLMCore
import XCTest

/// `Ops.checkpoint` (activation checkpointing, not the run checkpoints of `autoglm train`): the
/// graph its forward records is freed when it returns, even through an op whose backward holds
/// its own output (as the fused attentions' do), and the recomputing backward gives the
/// gradients of the unchecked graph bit for bit.
final class ActivationCheckpointOpTests: XCTestCase {
    /// 2·a through an op whose backward closure holds its own output: a retain cycle that only a
    /// backward or `dropGraph` breaks.
    private func selfHolding(_ a: Tensor) -> Tensor {
        let out = Tensor(zeros: a.shape)
        for i in 0..<a.count { out.data[i] = 2 * a.data[i] }
        return out.recorded(from: [a]) { g in
            let d = Tensor(zeros: a.shape)
            for i in 0..<a.count { d.data[i] = 2 * g.data[i] + 0 * out.data[i] }
            a.accumulateGrad(d)
        }
    }

    /// The body under test: gelu(2 · x ⊙ w).
    private func body(_ x: Tensor, _ w: Tensor) throws -> Tensor {
        Ops.gelu(selfHolding(try Ops.mul(x, w)))
    }

    func testTheForwardGraphIsFreedWhenCheckpointReturns() throws {
        let x = TestData.randn([4, 8], seed: 1), w = TestData.randn([4, 8], seed: 2)
        weak var inner: Tensor?
        let y = try Ops.checkpoint(x, parameters: [w]) { x in
            let h = try Ops.mul(x, w)
            inner = h
            return Ops.gelu(self.selfHolding(h))
        }
        XCTAssertNil(inner, "the checkpointed forward's activations outlived Ops.checkpoint")
        XCTAssertEqual(y.parents.count, 2, "the output records the input and the parameter only")
    }

    func testGradientsMatchTheUncheckedGraphBitForBit() throws {
        let x = TestData.randn([4, 8], seed: 3), w = TestData.randn([4, 8], seed: 4)
        let seed = TestData.randn([4, 8], seed: 5, requiresGrad: false)
        var results: [[[UInt32]]] = []
        for checked in [false, true] {
            x.grad = nil; w.grad = nil
            let y = checked ? try Ops.checkpoint(x, parameters: [w]) { try self.body($0, w) } : try body(x, w)
            try y.backward(seed: seed)
            results.append([y.values, try XCTUnwrap(x.grad).values, try XCTUnwrap(w.grad).values].map { $0.map(\.bitPattern) })
        }
        XCTAssertEqual(results[0][0], results[1][0], "outputs")
        XCTAssertEqual(results[0][1], results[1][1], "input gradient")
        XCTAssertEqual(results[0][2], results[1][2], "parameter gradient")
    }
}
