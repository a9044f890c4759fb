// Times Ops.rotary against the composed rotate-half it replaces: x·cos + (x @ R)·sin with R the
// [D, D] rotate-half matrix (one GEMM over every head's rows, since R is 2-D) and cos/sin
// [T, D] tables broadcast over batch and heads. Build and run through run.sh (it links this
// file against the release build of AutoGLMCore). Prints one JSON line per measurement.
//
// usage: run.sh [--shape 8,6,256,64] [--offset 0] [--rounds 30] [--threads N]
import AutoGLMCore
import Foundation

/// The command-line options (all optional).
struct Options {
    var shape = [8, 6, 256, 64]
    var offset = 0
    var rounds = 30
    var threads = Kernels.coreCount

    init(_ args: [String]) {
        var i = 0
        while i + 1 < args.count {
            let v = args[i + 1]
            switch args[i] {
            case "--shape": shape = v.split(separator: ",").compactMap { Int($0) }
            case "--offset": offset = Int(v) ?? offset
            case "--rounds": rounds = Int(v) ?? rounds
            case "--threads": threads = Int(v) ?? threads
            default: fatalError("unknown option \(args[i])")
            }
            i += 2
        }
        precondition(shape.count >= 2 && shape[shape.count - 1] % 2 == 0, "--shape needs [..., T, D] with D even")
    }
}

/// The composed rotate-half of a plugin without `rotary`: cos/sin tables [T, D] (each half
/// repeated) and R [D, D] with x @ R = concat(-x[h...], x[..<h]), built once, as a plugin would
/// at create time (the fused op builds its table on every call).
struct ComposedRotary {
    let cosine: Tensor, sine: Tensor, r: Tensor

    init(positions t: Int, features d: Int, offset: Int, base: Double) {
        let h = d / 2
        cosine = Tensor(zeros: [t, d]); sine = Tensor(zeros: [t, d]); r = Tensor(zeros: [d, d])
        for p in 0..<t {
            for i in 0..<h {
                let a = Double(p + offset) * pow(base, -2 * Double(i) / Double(d))
                for j in [i, i + h] {
                    cosine.data[p * d + j] = Float(cos(a)); sine.data[p * d + j] = Float(sin(a))
                }
            }
        }
        for j in 0..<h { r.data[(j + h) * d + j] = -1; r.data[j * d + j + h] = 1 }
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        try Ops.add(Ops.mul(x, cosine), Ops.mul(Ops.matmul(x, r), sine))
    }
}

/// Milliseconds taken by one call of `body`.
func milliseconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
}

/// The middle value (upper middle for an even count).
func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }

let options = Options(Array(CommandLine.arguments.dropFirst()))
Kernels.setThreads(options.threads)
let shape = options.shape, t = shape[shape.count - 2], d = shape[shape.count - 1]
var rng = RandomGenerator(seed: 1)
let x = Tensor.randn(shape, std: 1, rng: &rng, requiresGrad: true)
let seed = Tensor.randn(shape, std: 1, rng: &rng)
let composed = ComposedRotary(positions: t, features: d, offset: options.offset, base: 10_000)
let fused = { try Ops.rotary(x, positionOffset: options.offset, base: 10_000) }

// Same result both ways (to float rounding), or the comparison means nothing.
let diff = try zip(fused().values, composed(x).values).map { abs($0 - $1) }.max() ?? 0
precondition(diff < 1e-4, "rotary and the composed version differ by \(diff)")

// Alternating rounds after a warm-up of each, so a change in the machine's speed hits all alike.
let runs: [(String, () throws -> Void)] = [
    ("rotary fwd", { try Autograd.withNoGrad { _ = try fused() } }),
    ("matmul fwd", { try Autograd.withNoGrad { _ = try composed(x) } }),
    ("rotary fwd+bwd", { x.grad = nil; try fused().backward(seed: seed) }),
    ("matmul fwd+bwd", { x.grad = nil; try composed(x).backward(seed: seed) }),
]
for (_, run) in runs { try run() }
var times: [String: [Double]] = [:]
for _ in 0..<options.rounds {
    for (name, run) in runs { times[name, default: []].append(try milliseconds(run)) }
}
for (name, _) in runs {
    let v = times[name]!
    print("{\"op\": \"\(name)\", \"shape\": \(shape), \"offset\": \(options.offset), \"threads\": \(options.threads), "
          + "\"ms_median\": \(String(format: "%.3f", median(v))), \"ms_min\": \(String(format: "%.3f", v.min()!))}")
}
print("max |rotary - composed| = \(diff)")
