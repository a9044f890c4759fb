import AutoGLMCore
import Foundation

/// Forward + backward time of one attention component on [batch, heads, seq, head_dim] inputs,
/// for comparison with torch's scaled_dot_product_attention (bench/torch_sdpa.py).
public enum AttentionBenchmark {
    /// Median milliseconds of forward + backward over `steps` runs after `warmup` runs, with
    /// q, k, v in `precision` (bf16: rounded, as in a bf16 run); one JSON line naming the
    /// kernel path.
    public static func run(registry: PluginRegistry, attention: String, shape: [Int], threads: Int = 2,
                           warmup: Int = 3, steps: Int = 20, precision: Precision = .fp32) throws -> String {
        guard shape.count == 4, shape.allSatisfy({ $0 > 0 }) else {
            throw TensorError(message: "attention shape must be batch,heads,seq,head_dim")
        }
        Kernels.setThreads(threads)
        let parameters = registry.defaultParameters(kind: .attention, name: attention)
        let instance = try AttentionInstance(registry: registry, name: attention, parameters: parameters, nHead: shape[1],
                                             headDim: shape[3], blockSize: shape[2], layer: 0, nLayer: 1)
        var rng = RandomGenerator(seed: 1)
        let kvShape = [shape[0], instance.kvHeads, shape[2], shape[3]]
        let q = Tensor.randn(shape, rng: &rng, requiresGrad: true)
        let k = Tensor.randn(kvShape, rng: &rng, requiresGrad: true), v = Tensor.randn(kvShape, rng: &rng, requiresGrad: true)
        let seed = Tensor.randn(shape, rng: &rng)
        var times: [Double] = []
        for i in 0..<(warmup + steps) {
            q.grad = nil; k.grad = nil; v.grad = nil
            let start = DispatchTime.now().uptimeNanoseconds
            try Autocast.with(precision) { try instance.forward(q: q, k: k, v: v).backward(seed: seed) }
            if i >= warmup { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
        }
        let median = times.sorted()[times.count / 2]
        return "{\"system\": \"autoglm-\(HostInfo.version)\", \"attention\": \"\(attention)\", \"shape\": \(shape), "
            + "\"threads\": \(threads), \"precision\": \"\(precision.rawValue)\", \"isa\": \"\(Kernels.path.name)\", "
            + "\"fwd_bwd_ms_median\": \(String(format: "%.3f", median))}"
    }
}
