import AutoGLMCore
import Foundation

/// Generic checks of an evaluator: its metrics must not depend on how the data is batched.
enum EvaluatorConformance {
    static func run(info: ComponentInfo, registry: PluginRegistry, parameters: [String: ParameterValue],
                    into report: inout ConformanceReport) {
        func make() throws -> EvaluatorInstance { try EvaluatorInstance(registry: registry, name: info.name, parameters: parameters) }
        report.record(info.name, "lifecycle twice") { try PluginValidator.lifecycleTwice(make) }
        report.record(info.name, "state round trip") { try PluginValidator.stateRoundTrip(make) }
        report.record(info.name, "batch invariance (1 batch vs 7 uneven batches, and after reset)") {
            let rows = 29, vocab = 11
            var rng = RandomGenerator(seed: 8)
            let logits = Tensor.randn([rows, vocab], std: 2, rng: &rng)
            let targets = (0..<rows).map { _ in Int32(rng.below(vocab)) }
            let evaluator = try make()
            func measure(_ splits: [Int]) throws -> [(name: String, value: Double)] {
                try evaluator.reset()
                var start = 0
                for n in splits {
                    let slice = Tensor(shape: [n, vocab], values: Array(logits.values[(start * vocab)..<((start + n) * vocab)]))
                    try evaluator.update(logits: slice, targets: Array(targets[start..<(start + n)]))
                    start += n
                }
                return try evaluator.compute()
            }
            let whole = try measure([rows]), split = try measure([1, 5, 2, 7, 3, 4, 7]), again = try measure([rows])
            guard !whole.isEmpty else { throw ConformanceFailure("compute emitted no metric") }
            for other in [split, again] {
                guard other.map(\.name) == whole.map(\.name) else { throw ConformanceFailure("metric names differ: \(whole.map(\.name)) vs \(other.map(\.name))") }
                for (a, b) in zip(whole, other) where !(a.value.isNaN && b.value.isNaN) {
                    guard abs(a.value - b.value) <= 1e-9 * max(1, abs(a.value)) else {
                        throw ConformanceFailure("\(a.name): \(a.value) in one batch, \(b.value) batched differently or after reset")
                    }
                }
            }
            return whole.map { "\($0.name)=\(String(format: "%.4g", $0.value))" }.joined(separator: ", ")
        }
    }
}
