import Foundation

struct MaskedFillKernel: BinaryKernel {
    let value: Float
    @inline(__always) func f(_ a: Float, _ m: Float) -> Float { m != 0 ? a : value }
    @inline(__always) func gradA(_ g: Float, _ a: Float, _ m: Float) -> Float { m != 0 ? g : 0 }
    @inline(__always) func gradB(_ g: Float, _ a: Float, _ m: Float) -> Float { 0 }
}

extension Ops {
    /// `a` where `mask` is nonzero, `value` where it is zero (`mask` broadcasts to a's shape; it
    /// is a constant and gets no gradient). The gradient flows to `a` only where mask != 0.
    /// Throws when mask does not broadcast to exactly a's shape.
    public static func maskedFill(_ a: Tensor, mask: Tensor, value: Float) throws -> Tensor {
        let plan = try BroadcastPlan(a.shape, mask.shape, op: "maskedFill")
        guard plan.shape == a.shape else {
            throw TensorError("maskedFill: mask \(mask.shape) does not broadcast to \(a.shape)")
        }
        let k = MaskedFillKernel(value: value)
        let out = broadcastForward(k, plan, a, mask)
        return out.recorded(from: [a]) { g in
            guard a.requiresGrad, plan.count > 0 else { return }
            // a has the output's shape, so every element of da is written exactly once.
            let (da, acc) = a.gradDestination(), pg = g.data, pa = a.data, pm = mask.data
            let inner = plan.inner, im = plan.innerB
            Kernels.parallelFor(plan.outer, minChunk: Swift.max(1, elementwiseGrain / inner)) { rows in
                plan.forEachRow(rows) { r, oa, om in
                    let o = r * inner
                    gradRow(inner, pg + o, pa + oa, 1, pm + om, im, da + oa, accumulate: acc) { g, _, m in m != 0 ? g : 0 }
                }
            }
        }
    }

    /// A constant 0/1 tensor of a's shape marking, in each last-dimension row, the k largest
    /// entries (ties go to the lower index; -inf and NaN entries are never kept; k >= the row
    /// length keeps every finite entry). Throws when k < 0 or a is a scalar.
    public static func topkMask(_ a: Tensor, k: Int) throws -> Tensor {
        guard k >= 0 else { throw TensorError("topkMask: k must be >= 0, got \(k)") }
        guard a.ndim >= 1 else { throw TensorError("topkMask: needs at least 1 dimension, got []") }
        let out = Tensor(zeros: a.shape)
        let cols = a.shape[a.ndim - 1]
        guard cols > 0, a.count > 0, k > 0 else { return out }
        let nRows = a.count / cols
        let px = a.data, po = out.data
        parallelRows(nRows, rowCost: cols * 4) { range in
            let keys = UnsafeMutablePointer<UInt32>.allocate(capacity: cols)
            defer { keys.deallocate() }
            for r in range {
                let x = px + r * cols, o = po + r * cols
                // Keys of the entries above -inf (NaN excluded), without branches: the keys of
                // finite values and +inf lie in 0x0080_0000...0xFF80_0000.
                var c = 0
                for j in 0..<cols {
                    let key = sortableKey(x[j])
                    keys[c] = key
                    c += 1 - Int((0xFF00_0000 &- UInt64(key &- 0x0080_0000)) >> 63)
                }
                if k >= c {
                    for j in 0..<cols { o[j] = x[j] > -.infinity ? 1 : 0 }
                    continue
                }
                // Everything above the k-th largest value, then the first ties.
                let t = floatFromKey(kthLargestKey(keys, c, k))
                for j in 0..<cols { o[j] = x[j] > t ? 1 : 0 }
                var ties = k - Int(Kernels.sumElements(o, cols))
                var j = 0
                while ties > 0 {
                    if x[j] == t { o[j] = 1; ties -= 1 }
                    j += 1
                }
            }
        }
        return out
    }

    /// A key whose unsigned order is the float order (-0 just below +0).
    @inline(__always)
    static func sortableKey(_ x: Float) -> UInt32 {
        let b = x.bitPattern
        return b & 0x8000_0000 != 0 ? ~b : b | 0x8000_0000
    }

    /// The float whose `sortableKey` is `key`.
    @inline(__always)
    static func floatFromKey(_ key: UInt32) -> Float {
        Float(bitPattern: key & 0x8000_0000 != 0 ? key ^ 0x8000_0000 : ~key)
    }

    /// The k-th largest (1-based, 1 <= k <= n) of keys[0..<n], by radix selection on 4-bit
    /// digits from the top (branch-free counting and compaction); reorders keys.
    static func kthLargestKey(_ keys: UnsafeMutablePointer<UInt32>, _ n: Int, _ k: Int) -> UInt32 {
        var n = n, k = k
        var counts = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &counts) { raw -> UInt32 in
            let cnt = raw.baseAddress!.assumingMemoryBound(to: Int.self)
            for shift in stride(from: UInt32(28), through: 0, by: -4) {
                cnt.update(repeating: 0, count: 16)
                for i in 0..<n { cnt[Int((keys[i] >> shift) & 15)] += 1 }
                var d = 15
                while cnt[d] < k { k -= cnt[d]; d -= 1 }
                // Keep the candidates whose digit is d.
                var m = 0
                let digit = UInt32(d)
                for i in 0..<n {
                    let key = keys[i]
                    keys[m] = key
                    // +1 iff the digit equals d, in arithmetic (a compare here compiles to a
                    // mispredicted branch).
                    m += Int(((((key >> shift) & 15) ^ digit) &- 1) >> 31)
                }
                n = m
                if n == 1 { break }
            }
            return keys[0]
        }
    }

    /// A constant [rows, cols] 0/1 mask: 1 where j <= i + (cols - rows) and, when window > 0,
    /// also j > i + (cols - rows) - window (each query sees at most `window` keys). Negative
    /// rows or cols count as 0.
    public static func causalMask(rows: Int, cols: Int, window: Int) -> Tensor {
        let rows = Swift.max(rows, 0), cols = Swift.max(cols, 0)
        let out = Tensor(zeros: [rows, cols])
        let p = out.data
        for i in 0..<rows {
            let diag = i + cols - rows                      // last allowed column
            let last = min(cols - 1, diag)
            let first = window > 0 ? Swift.max(0, diag - window + 1) : 0
            if last >= first {
                for j in first...last { p[i * cols + j] = 1 }
            }
        }
        return out
    }
}
