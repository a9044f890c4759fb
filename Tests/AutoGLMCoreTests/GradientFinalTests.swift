import AutoGLMCore
import XCTest

/// `backward(gradientFinal:)`: each leaf is reported once, after the last op feeding it, with
/// its gradient already equal (bit for bit) to what the whole backward leaves in it.
final class GradientFinalTests: XCTestCase {
    func testEachLeafIsReportedOnceWithItsFinalGradient() throws {
        var rng = RandomGenerator(seed: 3)
        let x = Tensor.randn([4, 5], rng: &rng)
        let w1 = Tensor.randn([5, 6], rng: &rng, requiresGrad: true)
        let w2 = Tensor.randn([6, 3], rng: &rng, requiresGrad: true)
        let b = Tensor.randn([4, 6], rng: &rng, requiresGrad: true)
        w1.name = "w1"; w2.name = "w2"; b.name = "b"
        // w1 feeds two ops, the second of which runs first in the backward: it is final only
        // after the first (the matmul with x).
        let h = Ops.gelu(try Ops.add(try Ops.matmul(x, w1), b))
        let y = try Ops.matmul(h, w2)
        let extra = try Ops.matmul(try Ops.matmul(x, w1), w2)
        let loss = Ops.sumAll(try Ops.add(y, extra))
        var reported: [String: [Float]] = [:], order: [String] = []
        try loss.backward { leaf in
            let name = leaf.name ?? "?"
            XCTAssertNil(reported[name], "\(name) reported twice")
            reported[name] = leaf.grad?.values
            order.append(name)
        }
        XCTAssertEqual(Set(order), ["w1", "w2", "b"])
        for leaf in [w1, w2, b] {
            XCTAssertEqual(reported[leaf.name!], leaf.grad?.values, "\(leaf.name!) changed after it was reported final")
        }
    }

    func testWithoutANotificationTheGradientsAreTheSame() throws {
        func grads(notify: Bool) throws -> [Float] {
            var rng = RandomGenerator(seed: 5)
            let x = Tensor.randn([3, 4], rng: &rng), w = Tensor.randn([4, 2], rng: &rng, requiresGrad: true)
            let loss = Ops.sumAll(Ops.gelu(try Ops.matmul(x, w)))
            if notify { try loss.backward { _ in } } else { try loss.backward() }
            return w.grad!.values
        }
        XCTAssertEqual(try grads(notify: true), try grads(notify: false))
    }
}
