import Foundation

/// Naive float64 causal attention with its analytic backward, the reference every attention
/// plugin is checked against. Arrays are [batch, heads, seq, dim] row-major; k/v may have fewer
/// heads (GQA: query head h uses kv head h / (heads / kvHeads)).
struct ReferenceAttention {
    let batch: Int, heads: Int, kvHeads: Int, seq: Int, dim: Int
    /// Keys further back than this are masked (0 = unlimited).
    var window = 0

    /// Whether query i may attend to key j.
    func allowed(_ i: Int, _ j: Int) -> Bool { j <= i && (window <= 0 || j > i - window) }

    /// Output and gradients of sum(out * dOut) with respect to q, k, v.
    func run(q: [Double], k: [Double], v: [Double], dOut: [Double]) -> (out: [Double], dq: [Double], dk: [Double], dv: [Double]) {
        var out = [Double](repeating: 0, count: q.count), dq = out
        var dk = [Double](repeating: 0, count: k.count), dv = dk
        let scale = 1 / Double(dim).squareRoot()
        for b in 0..<batch {
            for h in 0..<heads {
                let kh = h / (heads / kvHeads)
                let qo = (b * heads + h) * seq * dim, ko = (b * kvHeads + kh) * seq * dim
                var p = [[Double]](repeating: [Double](repeating: 0, count: seq), count: seq)
                for i in 0..<seq {
                    var row = [Double](repeating: -.infinity, count: seq)
                    for j in 0..<seq where allowed(i, j) {
                        var s = 0.0
                        for d in 0..<dim { s += q[qo + i * dim + d] * k[ko + j * dim + d] }
                        row[j] = s * scale
                    }
                    let m = row.max()!
                    let e = row.map { $0 == -.infinity ? 0 : exp($0 - m) }
                    let z = e.reduce(0, +)
                    p[i] = e.map { $0 / z }
                    for d in 0..<dim {
                        var acc = 0.0
                        for j in 0..<seq { acc += p[i][j] * v[ko + j * dim + d] }
                        out[qo + i * dim + d] = acc
                    }
                }
                for i in 0..<seq {
                    var dp = [Double](repeating: 0, count: seq)
                    for j in 0..<seq {
                        for d in 0..<dim {
                            dp[j] += dOut[qo + i * dim + d] * v[ko + j * dim + d]
                            dv[ko + j * dim + d] += p[i][j] * dOut[qo + i * dim + d]
                        }
                    }
                    let dot = (0..<seq).reduce(0.0) { $0 + dp[$1] * p[i][$1] }
                    for j in 0..<seq {
                        let ds = p[i][j] * (dp[j] - dot) * scale
                        for d in 0..<dim {
                            dq[qo + i * dim + d] += ds * k[ko + j * dim + d]
                            dk[ko + j * dim + d] += ds * q[qo + i * dim + d]
                        }
                    }
                }
            }
        }
        return (out, dq, dk, dv)
    }
}

/// Largest |a - b| / (atol + rtol·|b|) over the arrays (≤ 1 means within tolerance).
func toleranceRatio(_ a: [Float], _ b: [Double], atol: Double = 1e-5, rtol: Double = 1e-4) -> Double {
    zip(a, b).map { abs(Double($0) - $1) / (atol + rtol * abs($1)) }.max() ?? 0
}
