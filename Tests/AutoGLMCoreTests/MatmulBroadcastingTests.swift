import AutoGLMCore
import XCTest

/// Pins how `Ops.matmul` pairs the matrices of a 4-D a [B, H, m, k] with a 2-D, 3-D or 4-D b
/// (matmul's doc comment in include/autoglm/plugin.h; docs/matmul-broadcasting.md), against
/// per-pair products written out by hand.
final class MatmulBroadcastingTests: XCTestCase {
    let batch = 2, heads = 3, m = 4, k = 5, n = 6

    /// Matrix `index` ([rows, cols] each) of a tensor's values.
    func matrix(_ t: Tensor, _ index: Int, rows: Int, cols: Int) -> [Float] {
        Array(t.values[(index * rows * cols)..<((index + 1) * rows * cols)])
    }

    /// op(x) · op(y) in Double for one pair, x [m, k] (or [k, m] with tx), y [k, n] (or [n, k]).
    func product(_ x: [Float], _ y: [Float], m: Int, k: Int, n: Int, tx: Bool = false, ty: Bool = false) -> [Float] {
        (0..<(m * n)).map { e in
            let i = e / n, j = e % n
            var s = 0.0
            for p in 0..<k { s += Double(tx ? x[p * m + i] : x[i * k + p]) * Double(ty ? y[j * k + p] : y[p * n + j]) }
            return Float(s)
        }
    }

    /// Asserts out [B, H, m, n] holds, for every (b, h), the product of a's matrix `pickA(b, h)`
    /// (default: matrix (b, h) of a [B, H, ...]) with b's matrix `pick(b, h)`.
    func assertPairs(_ out: Tensor, _ a: Tensor, _ b: Tensor, tA: Bool = false, tB: Bool = false,
                     pickA: ((Int, Int) -> Int)? = nil, _ pick: (Int, Int) -> Int,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(out.shape, [batch, heads, m, n], file: file, line: line)
        for bi in 0..<batch {
            for h in 0..<heads {
                let ia = pickA?(bi, h) ?? bi * heads + h
                let want = product(matrix(a, ia, rows: m, cols: k), matrix(b, pick(bi, h), rows: k, cols: n),
                                   m: m, k: k, n: n, tx: tA, ty: tB)
                assertClose(matrix(out, bi * heads + h, rows: m, cols: n), want, "(\(bi), \(h))", file: file, line: line)
            }
        }
    }

    func test2DBIsSharedByEveryBatchAndHead() throws {
        let a = TestData.randn([batch, heads, m, k], seed: 1), b = TestData.randn([k, n], seed: 2)
        assertPairs(try Ops.matmul(a, b), a, b) { _, _ in 0 }
        // Leading size-1 dimensions change nothing.
        for shape in [[1, k, n], [1, 1, k, n]] {
            let b1 = try Ops.reshape(b, shape)
            assertClose(try Ops.matmul(a, b1).values, try Ops.matmul(a, b).values)
        }
        // Transposed operands: the same pairing.
        let at = TestData.randn([batch, heads, k, m], seed: 3), bt = TestData.randn([n, k], seed: 4)
        assertPairs(try Ops.matmul(at, b, transposeA: true), at, b, tA: true) { _, _ in 0 }
        assertPairs(try Ops.matmul(a, bt, transposeB: true), a, bt, tB: true) { _, _ in 0 }
        // b's gradient is the sum over all B·H pairs of aᵀ · g.
        let g = TestData.randn([batch, heads, m, n], seed: 5, requiresGrad: false)
        for tA in [false, true] {
            let x = tA ? at : a
            b.grad = nil
            try Ops.matmul(x, b, transposeA: tA).backward(seed: g)
            var want = [Double](repeating: 0, count: k * n)
            for pair in 0..<(batch * heads) {
                let xa = matrix(x, pair, rows: m, cols: k), gp = matrix(g, pair, rows: m, cols: n)
                for p in 0..<k { for j in 0..<n { for i in 0..<m {
                    want[p * n + j] += Double(tA ? xa[p * m + i] : xa[i * k + p]) * Double(gp[i * n + j])
                } } }
            }
            assertClose(b.grad!.values, want.map(Float.init), tol: 1e-5, "transposeA \(tA)")
        }
    }

    func test3DBAlignsWithTheHeadDimension() throws {
        // b [H, k, n] is right-aligned against [B, H]: matrix h goes with head h of every batch.
        let a = TestData.randn([batch, heads, m, k], seed: 6, requiresGrad: false)
        let perHead = TestData.randn([heads, k, n], seed: 7, requiresGrad: false)
        assertPairs(try Ops.matmul(a, perHead), a, perHead) { _, h in h }
        // So a per-batch b must be [B, 1, k, n]; [B, k, n] is refused (it would pair with heads).
        let perBatch = TestData.randn([batch, k, n], seed: 8, requiresGrad: false)
        assertThrowsTensorError("matmul: batch dimensions cannot be broadcast: [2, 3, 4, 5] x [2, 5, 6]") {
            try Ops.matmul(a, perBatch)
        }
        assertPairs(try Ops.matmul(a, try Ops.reshape(perBatch, [batch, 1, k, n])), a, perBatch) { bi, _ in bi }
        // With one head, a 3-D b spreads the result over a new head dimension: [B, 1] x [X] → [B, X].
        let oneHead = TestData.randn([batch, 1, m, k], seed: 10, requiresGrad: false)
        assertPairs(try Ops.matmul(oneHead, perHead), oneHead, perHead, pickA: { bi, _ in bi }) { _, h in h }
        // The full 4-D b: pair by pair.
        let full = TestData.randn([batch, heads, k, n], seed: 9, requiresGrad: false)
        assertPairs(try Ops.matmul(a, full), a, full) { bi, h in bi * self.heads + h }
        // And the other way round: a 2-D a is shared by every matrix of a 4-D b.
        let shared = TestData.randn([m, k], seed: 11, requiresGrad: false)
        assertPairs(try Ops.matmul(shared, full), shared, full, pickA: { _, _ in 0 }) { bi, h in bi * self.heads + h }
    }
}
