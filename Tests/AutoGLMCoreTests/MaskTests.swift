import AutoGLMCore
import XCTest

final class MaskTests: XCTestCase {
    func testMaskedFillForwardWithBroadcastMask() throws {
        let a = TestData.tensor([2, 3], [1, 2, 3, 4, 5, 6])
        let m = TestData.tensor([3], [1, 0, 1])
        XCTAssertEqual(try Ops.maskedFill(a, mask: m, value: -9).values, [1, -9, 3, 4, -9, 6])
        let m2 = TestData.tensor([2, 1], [0, 1])
        XCTAssertEqual(try Ops.maskedFill(a, mask: m2, value: -.infinity).values,
                       [-.infinity, -.infinity, -.infinity, 4, 5, 6])
        let same = TestData.tensor([2, 3], [0, 1, 0, 1, 0, 1])
        XCTAssertEqual(try Ops.maskedFill(a, mask: same, value: 0).values, [0, 2, 0, 4, 0, 6])
    }

    func testMaskedFillGradientOnlyWhereKept() throws {
        let a = TestData.randn([2, 3], seed: 1)
        let m = TestData.tensor([2, 3], [1, 0, 1, 0, 0, 1])
        try Ops.sumAll(try Ops.maskedFill(a, mask: m, value: 7)).backward()
        XCTAssertEqual(a.grad!.values, [1, 0, 1, 0, 0, 1])
        let b = TestData.randn([2, 4, 5], seed: 2)
        GradCheck.check([b], "maskedFill broadcast") {
            try Ops.maskedFill($0[0], mask: Ops.causalMask(rows: 4, cols: 5, window: 0), value: -3)
        }
        let big = TestData.randn([64, 40, 40], seed: 3)
        let mask = Ops.causalMask(rows: 40, cols: 40, window: 0)
        try Ops.sumAll(try Ops.maskedFill(big, mask: mask, value: -1)).backward()
        let mv = mask.values
        let gv = big.grad!.values
        XCTAssertEqual((0..<big.count).filter { gv[$0] != mv[$0 % 1600] }.count, 0)
    }

    func testMaskedFillErrors() {
        assertThrowsTensorError("maskedFill: mask [2, 3, 4] does not broadcast to [3, 4]") {
            try Ops.maskedFill(Tensor(zeros: [3, 4]), mask: Tensor(zeros: [2, 3, 4]), value: 0)
        }
        assertThrowsTensorError("maskedFill: shapes [3, 4] and [3] cannot be broadcast") {
            try Ops.maskedFill(Tensor(zeros: [3, 4]), mask: Tensor(zeros: [3]), value: 0)
        }
    }

    func testTopkMask() throws {
        let a = TestData.tensor([2, 5], [1, 3, 3, 2, 3,
                                         5, -.infinity, 4, -.infinity, 0])
        XCTAssertEqual(try Ops.topkMask(a, k: 2).values, [0, 1, 1, 0, 0, 1, 0, 1, 0, 0])
        XCTAssertEqual(try Ops.topkMask(a, k: 1).values, [0, 1, 0, 0, 0, 1, 0, 0, 0, 0])
        XCTAssertEqual(try Ops.topkMask(a, k: 4).values, [0, 1, 1, 1, 1, 1, 0, 1, 0, 1])
        // k >= row length keeps every entry except -inf.
        XCTAssertEqual(try Ops.topkMask(a, k: 9).values, [1, 1, 1, 1, 1, 1, 0, 1, 0, 1])
        XCTAssertEqual(try Ops.topkMask(a, k: 0).values, [Float](repeating: 0, count: 10))
        // NaN is never kept, +inf is the largest, -0 and +0 tie (lower index first).
        let special = TestData.tensor([2, 4], [.nan, .infinity, 1, -.infinity,
                                               -0.0, 0.0, -1, -Float.greatestFiniteMagnitude])
        XCTAssertEqual(try Ops.topkMask(special, k: 1).values, [0, 1, 0, 0, 1, 0, 0, 0])
        XCTAssertEqual(try Ops.topkMask(special, k: 3).values, [0, 1, 1, 0, 1, 1, 1, 0])
        XCTAssertEqual(try Ops.topkMask(special, k: 5).values, [0, 1, 1, 0, 1, 1, 1, 1])
        let mask = try Ops.topkMask(TestData.randn([3, 4], seed: 1), k: 2)
        XCTAssertFalse(mask.requiresGrad)
        XCTAssertNil(mask.backwardFn)
    }

    func testTopkMaskMatchesSortOnLargeRows() throws {
        let a = TestData.randn([300, 97], seed: 5, requiresGrad: false)
        // Coarse values to force many ties.
        for i in 0..<a.count { a.data[i] = (a.data[i] * 4).rounded() }
        for k in [1, 7, 50, 96] {
            let mv = try Ops.topkMask(a, k: k).values, av = a.values
            for r in 0..<300 {
                let row = Array(av[(r * 97)..<(r * 97 + 97)])
                let order = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }
                var expect = [Float](repeating: 0, count: 97)
                for j in order.prefix(k) { expect[j] = 1 }
                XCTAssertEqual(Array(mv[(r * 97)..<(r * 97 + 97)]), expect, "k \(k) row \(r)")
            }
        }
    }

    func testTopkMaskErrors() {
        assertThrowsTensorError("topkMask: k must be >= 0, got -1") { try Ops.topkMask(Tensor(zeros: [2, 2]), k: -1) }
        assertThrowsTensorError("topkMask: needs at least 1 dimension, got []") { try Ops.topkMask(Tensor(zeros: []), k: 1) }
    }

    func testCausalMask() {
        XCTAssertEqual(Ops.causalMask(rows: 3, cols: 3, window: 0).values,
                       [1, 0, 0,
                        1, 1, 0,
                        1, 1, 1])
        XCTAssertEqual(Ops.causalMask(rows: 2, cols: 4, window: 0).values,
                       [1, 1, 1, 0,
                        1, 1, 1, 1])
        XCTAssertEqual(Ops.causalMask(rows: 4, cols: 4, window: 2).values,
                       [1, 0, 0, 0,
                        1, 1, 0, 0,
                        0, 1, 1, 0,
                        0, 0, 1, 1])
        XCTAssertEqual(Ops.causalMask(rows: 2, cols: 5, window: 3).values,
                       [0, 1, 1, 1, 0,
                        0, 0, 1, 1, 1])
        XCTAssertEqual(Ops.causalMask(rows: 3, cols: 2, window: 0).values,
                       [0, 0,
                        1, 0,
                        1, 1])
        XCTAssertEqual(Ops.causalMask(rows: 3, cols: 2, window: 0).shape, [3, 2])
        XCTAssertEqual(Ops.causalMask(rows: -1, cols: 2, window: 0).shape, [0, 2])
    }
}
