import AutoGLMCore
import Foundation

/// Generic checks of an optimizer: it must drive a quadratic towards its minimum.
enum OptimizerConformance {
    static func run(info: ComponentInfo, registry: PluginRegistry, parameters: [String: ParameterValue],
                    into report: inout ConformanceReport) {
        func params() -> [Tensor] {
            var rng = RandomGenerator(seed: 5)
            let w = Tensor.randn([6, 4], rng: &rng, requiresGrad: true); w.name = "blocks.0.mlp.fc.weight"
            let b = Tensor.randn([4], rng: &rng, requiresGrad: true); b.name = "blocks.0.norm1.weight"
            return [w, b]
        }
        func make(_ ps: [Tensor]) throws -> OptimizerInstance {
            try OptimizerInstance(registry: registry, name: info.name, parameters: parameters, modelParameters: ps,
                                  roles: [.hidden, .norm])
        }
        report.record(info.name, "lifecycle twice") { try PluginValidator.lifecycleTwice { try make(params()) } }
        report.record(info.name, "state round trip") { try PluginValidator.stateRoundTrip { try make(params()) } }
        report.record(info.name, "decreases a quadratic (0.5·|p − target|², 200 steps, lr 0.05)") {
            let ps = params()
            var rng = RandomGenerator(seed: 6)
            let targets = ps.map { Tensor.randn($0.shape, std: 0.5, rng: &rng) }
            func loss() -> Double {
                var total = 0.0
                for (p, t) in zip(ps, targets) {
                    for i in 0..<p.count {
                        let d = Double(p.data[i] - t.data[i])
                        total += 0.5 * d * d
                    }
                }
                return total
            }
            let optimizer = try make(ps)
            let start = loss()
            for step in 1...200 {
                for (p, t) in zip(ps, targets) {
                    p.grad = Tensor(shape: p.shape, values: zip(p.values, t.values).map { $0 - $1 })
                }
                try optimizer.step(lr: 0.05, step: step)
            }
            let end = loss()
            guard end.isFinite, end < 0.5 * start else {
                throw ConformanceFailure(String(format: "loss went from %.4g to %.4g", start, end))
            }
            guard optimizer.stateTensors.allSatisfy({ $0.tensor.values.allSatisfy(\.isFinite) }) else {
                throw ConformanceFailure("a state buffer holds NaN or Inf")
            }
            return String(format: "loss %.4g → %.4g; state: %@", start, end,
                          Set(optimizer.stateTensors.map { String($0.name.split(separator: "/").last ?? "") }.filter { !$0.hasPrefix("_") }).sorted().joined(separator: ", "))
        }
    }
}
