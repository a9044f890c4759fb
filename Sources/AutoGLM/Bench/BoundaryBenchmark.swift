import AutoGLMCore
import Foundation

/// What crossing the plugin boundary costs: nanoseconds per callback event and per optimizer
/// parameter update (host-side marshalling included, plugin work negligible), and the composed
/// `causal_dense` plugin against the same ops called directly from Swift.
public enum BoundaryBenchmark {
    /// One JSON line with the measurements.
    public static func run(registry: PluginRegistry, shape: [Int] = [16, 4, 128, 32], calls: Int = 100_000) throws -> String {
        Kernels.setThreads(2)
        var fields: [String] = []
        // Callback events: terminate_on_nan only inspects two doubles.
        if registry.component(kind: .callback, name: "terminate_on_nan") != nil {
            let callback = try CallbackInstance(registry: registry, name: "terminate_on_nan", parameters: [:])
            var state = TrainerSnapshot(); state.loss = 1; state.gradNorm = 1
            var control = TrainerControl()
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<calls { try callback.onEvent(.stepEnd, state: state, control: &control) }
            fields.append("\"callback_event_ns\": \(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(calls))")
        }
        // Optimizer updates of one-element parameters: the per-parameter call overhead.
        let params = (0..<8).map { i -> Tensor in
            let t = Tensor(zeros: [1], requiresGrad: true); t.name = "p\(i)"; t.grad = Tensor(shape: [1], values: [0.1]); return t
        }
        var adamw = registry.defaultParameters(kind: .optimizer, name: "adamw")
        adamw["weight_decay"] = .number(0)
        let optimizer = try OptimizerInstance(registry: registry, name: "adamw", parameters: adamw, modelParameters: params)
        let steps = calls / params.count
        var start = DispatchTime.now().uptimeNanoseconds
        for s in 1...steps { try optimizer.step(lr: 1e-3, step: s) }
        fields.append("\"optimizer_param_update_ns\": \(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(steps * params.count))")
        // Composed attention through the plugin vs the same ops in Swift.
        let attention = try AttentionInstance(registry: registry, name: "causal_dense", parameters: ["scale": .number(0)],
                                              nHead: shape[1], headDim: shape[3], blockSize: shape[2], layer: 0, nLayer: 1)
        var rng = RandomGenerator(seed: 3)
        let q = Tensor.randn(shape, rng: &rng, requiresGrad: true), k = Tensor.randn(shape, rng: &rng, requiresGrad: true)
        let v = Tensor.randn(shape, rng: &rng, requiresGrad: true), seed = Tensor.randn(shape, rng: &rng)
        func median(_ body: () throws -> Tensor) throws -> Double {
            var times: [Double] = []
            for i in 0..<23 {
                start = DispatchTime.now().uptimeNanoseconds
                try body().backward(seed: seed)
                if i >= 3 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
            }
            return times.sorted()[times.count / 2]
        }
        var plugin = 0.0, host = 0.0
        for _ in 0..<3 {  // alternate to share the machine's noise
            plugin += try median { try attention.forward(q: q, k: k, v: v) }
            host += try median { try AttentionConformance.denseAttention(q, k, v) }
        }
        fields.append("\"attention_shape\": \(shape)")
        fields.append(String(format: "\"causal_dense_plugin_ms\": %.3f, \"same_ops_in_host_ms\": %.3f, \"plugin_over_host\": %.4f",
                             plugin / 3, host / 3, plugin / host))
        return "{" + fields.joined(separator: ", ") + "}"
    }
}
