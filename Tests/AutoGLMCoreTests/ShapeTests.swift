import AutoGLMCore
import XCTest

final class ShapeTests: XCTestCase {
    func testReshapeSharesStorageAndInfers() throws {
        let a = TestData.randn([2, 3, 4], seed: 1)
        let r = try Ops.reshape(a, [6, -1])
        XCTAssertEqual(r.shape, [6, 4])
        XCTAssertTrue(r.storage === a.storage)
        XCTAssertEqual(try Ops.reshape(a, [-1]).shape, [24])
        XCTAssertEqual(try Ops.reshape(TestData.tensor([1], [3]), []).shape, [])
        XCTAssertEqual(try Ops.reshape(TestData.tensor([], [3]), [1, 1]).shape, [1, 1])
        GradCheck.check([a], "reshape") { try Ops.reshape($0[0], [4, -1, 2]) }
    }

    func testReshapeErrors() {
        let a = Tensor(zeros: [2, 3])
        assertThrowsTensorError("reshape: cannot reshape [2, 3] (6 elements) into [4, 2]") { try Ops.reshape(a, [4, 2]) }
        assertThrowsTensorError("reshape: more than one -1 in [-1, -1]") { try Ops.reshape(a, [-1, -1]) }
        assertThrowsTensorError("reshape: cannot reshape [2, 3] (6 elements) into [4, -1]") { try Ops.reshape(a, [4, -1]) }
        assertThrowsTensorError("reshape: negative dimension in shape [-2, -3]") { try Ops.reshape(a, [-2, -3]) }
        assertThrowsTensorError("reshape: cannot reshape [2, 3] (6 elements) into [0, -1]") { try Ops.reshape(a, [0, -1]) }
    }

    func testTransposeValues() throws {
        let a = TestData.tensor([2, 3], [1, 2, 3, 4, 5, 6])
        let t = try Ops.transpose(a, 0, 1)
        XCTAssertEqual(t.shape, [3, 2])
        XCTAssertEqual(t.values, [1, 4, 2, 5, 3, 6])
        // [B, T, H, D] → [B, H, T, D] against index arithmetic.
        let b = TestData.randn([2, 3, 4, 5], seed: 2, requiresGrad: false)
        let u = try Ops.transpose(b, 1, 2)
        XCTAssertEqual(u.shape, [2, 4, 3, 5])
        let bv = b.values, uv = u.values
        for i in 0..<2 { for t in 0..<3 { for h in 0..<4 { for d in 0..<5 {
            let dst: Int = ((i * 4 + h) * 3 + t) * 5 + d
            let src: Int = ((i * 3 + t) * 4 + h) * 5 + d
            XCTAssertEqual(uv[dst], bv[src])
        } } } }
        let v = try Ops.transpose(b, -1, 0)
        XCTAssertEqual(v.shape, [5, 3, 4, 2])
        let vi: Int = ((4 * 3 + 1) * 4 + 2) * 2 + 1, bi: Int = ((1 * 3 + 1) * 4 + 2) * 5 + 4
        XCTAssertEqual(v.values[vi], bv[bi])
        XCTAssertEqual(try Ops.transpose(b, 2, 2).values, bv)
    }

    func testTransposeGradients() {
        let a = TestData.randn([2, 3, 4], seed: 3)
        GradCheck.check([a], "transpose 0 1") { try Ops.transpose($0[0], 0, 1) }
        GradCheck.check([a], "transpose 1 2") { try Ops.transpose($0[0], 1, 2) }
        GradCheck.check([a], "transpose 0 2") { try Ops.transpose($0[0], 2, 0) }
        GradCheck.check([TestData.randn([2, 3, 2, 3], seed: 4)], "transpose 1 3") { try Ops.transpose($0[0], 1, 3) }
    }

    func testSlice() throws {
        let a = TestData.tensor([2, 4], [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(try Ops.slice(a, dim: 1, start: 1, length: 2).values, [2, 3, 6, 7])
        XCTAssertEqual(try Ops.slice(a, dim: 0, start: 1, length: 1).values, [5, 6, 7, 8])
        XCTAssertEqual(try Ops.slice(a, dim: -1, start: -1, length: 1).values, [4, 8])
        XCTAssertEqual(try Ops.slice(a, dim: 1, start: 4, length: 0).shape, [2, 0])
        let b = TestData.randn([3, 5, 2], seed: 5)
        GradCheck.check([b], "slice middle") { try Ops.slice($0[0], dim: 1, start: 1, length: 3) }
        GradCheck.check([b], "slice first") { try Ops.slice($0[0], dim: 0, start: 2, length: 1) }
        assertThrowsTensorError("slice: start 3 length 2 out of range for dim 1 of size 4 in [2, 4]") {
            try Ops.slice(a, dim: 1, start: 3, length: 2)
        }
        assertThrowsTensorError("slice: start 0 length -1 out of range for dim 0 of size 2 in [2, 4]") {
            try Ops.slice(a, dim: 0, start: 0, length: -1)
        }
        assertThrowsTensorError("slice: dim 2 out of range for a 2-D tensor") { try Ops.slice(a, dim: 2, start: 0, length: 1) }
    }

    func testConcat() throws {
        let a = TestData.tensor([2, 1], [1, 2]), b = TestData.tensor([2, 2], [3, 4, 5, 6])
        let c = try Ops.concat([a, b], dim: 1)
        XCTAssertEqual(c.shape, [2, 3])
        XCTAssertEqual(c.values, [1, 3, 4, 2, 5, 6])
        XCTAssertEqual(try Ops.concat([b, b], dim: 0).values, [3, 4, 5, 6, 3, 4, 5, 6])
        let x = TestData.randn([2, 2, 3], seed: 6), y = TestData.randn([2, 1, 3], seed: 7), z = TestData.randn([2, 3, 3], seed: 8)
        GradCheck.check([x, y, z], "concat middle") { try Ops.concat($0, dim: 1) }
        GradCheck.check([x, x], "concat same tensor twice") { _ in try Ops.concat([x, x], dim: -1) }
        let frozen = TestData.randn([2, 2, 3], seed: 9, requiresGrad: false)
        GradCheck.check([x, frozen], "concat with constant") { try Ops.concat($0, dim: 0) }
    }

    func testConcatErrors() {
        assertThrowsTensorError("concat: no tensors to concatenate") { try Ops.concat([], dim: 0) }
        assertThrowsTensorError("concat: part 1 has shape [3, 3], incompatible with [2, 2] along dim 1") {
            try Ops.concat([Tensor(zeros: [2, 2]), Tensor(zeros: [3, 3])], dim: 1)
        }
        assertThrowsTensorError("concat: part 1 has shape [2], incompatible with [2, 2] along dim 0") {
            try Ops.concat([Tensor(zeros: [2, 2]), Tensor(zeros: [2])], dim: 0)
        }
        assertThrowsTensorError("concat: cannot concatenate 0-D tensors") { try Ops.concat([Tensor(zeros: [])], dim: 0) }
        assertThrowsTensorError("concat: dim 2 out of range for a 2-D tensor") { try Ops.concat([Tensor(zeros: [2, 2])], dim: 2) }
    }

    func testRepeatInterleave() throws {
        // [B=1, kv=2, T=1, D=2] → [1, 4, 1, 2]: each head repeated consecutively.
        let a = TestData.tensor([1, 2, 1, 2], [1, 2, 3, 4])
        let r = try Ops.repeatInterleave(a, dim: 1, times: 2)
        XCTAssertEqual(r.shape, [1, 4, 1, 2])
        XCTAssertEqual(r.values, [1, 2, 1, 2, 3, 4, 3, 4])
        XCTAssertEqual(try Ops.repeatInterleave(TestData.tensor([3], [1, 2, 3]), dim: 0, times: 2).values, [1, 1, 2, 2, 3, 3])
        XCTAssertEqual(try Ops.repeatInterleave(a, dim: 1, times: 0).shape, [1, 0, 1, 2])
        GradCheck.check([TestData.randn([2, 2, 3, 2], seed: 10)], "repeatInterleave") { try Ops.repeatInterleave($0[0], dim: 1, times: 3) }
        GradCheck.check([TestData.randn([2, 3], seed: 11)], "repeatInterleave last") { try Ops.repeatInterleave($0[0], dim: -1, times: 2) }
        assertThrowsTensorError("repeatInterleave: times must be >= 0, got -1") { try Ops.repeatInterleave(a, dim: 1, times: -1) }
        assertThrowsTensorError("repeatInterleave: dim 4 out of range for a 4-D tensor") { try Ops.repeatInterleave(a, dim: 4, times: 2) }
    }
}
