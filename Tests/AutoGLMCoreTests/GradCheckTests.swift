import AutoGLMCore
import XCTest

/// The gradient checker must accept correct backward passes and reject subtly wrong ones.
final class GradCheckTests: XCTestCase {
    /// y = x² with a backward of (2 + error)·x·g, optionally routing the gradient to the wrong
    /// element (a permutation bug).
    func square(_ x: Tensor, error: Float = 0, shifted: Bool = false) -> Tensor {
        let out = Tensor(zeros: x.shape)
        for i in 0..<x.count { out.data[i] = x.data[i] * x.data[i] }
        return out.recorded(from: [x]) { g in
            let d = Tensor(zeros: x.shape)
            for i in 0..<x.count {
                let j = shifted ? (i + 1) % x.count : i
                d.data[j] = (2 + error) * x.data[i] * g.data[i]
            }
            x.accumulateGrad(d)
        }
    }

    func testAcceptsCorrectBackward() throws {
        let x = TestData.randn([3, 4], seed: 1)
        XCTAssertTrue(try GradCheck.mismatches([x]) { self.square($0[0]) }.isEmpty)
    }

    func testRejectsScaledBackward() throws {
        // 5% too large.
        let x = TestData.randn([3, 4], seed: 2)
        XCTAssertFalse(try GradCheck.mismatches([x]) { self.square($0[0], error: 0.1) }.isEmpty)
    }

    func testRejectsMisroutedBackward() throws {
        let x = TestData.randn([3, 4], seed: 3)
        XCTAssertFalse(try GradCheck.mismatches([x]) { self.square($0[0], shifted: true) }.isEmpty)
    }

    func testRejectsMissingGradient() throws {
        // An op that forgets one input's gradient.
        let a = TestData.randn([2, 3], seed: 4), b = TestData.randn([2, 3], seed: 5)
        let bad = try GradCheck.mismatches([a, b]) { inputs in
            let s = try Ops.add(inputs[0], inputs[1])
            let out = Tensor(zeros: s.shape)
            for i in 0..<s.count { out.data[i] = s.data[i] }
            return out.recorded(from: [inputs[0], inputs[1]]) { g in inputs[0].accumulateGrad(g) }
        }
        XCTAssertTrue(bad.contains { $0.input == 1 })
        XCTAssertFalse(bad.contains { $0.input == 0 })
    }
}
