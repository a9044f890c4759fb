import AutoGLMCore
import Foundation

/// Generic checks of a callback: every event of a short synthetic run is accepted, with a small
/// model attached (ABI 1.2 `model_param`).
enum CallbackConformance {
    static func run(info: ComponentInfo, registry: PluginRegistry, parameters: [String: ParameterValue],
                    into report: inout ConformanceReport) {
        func make() throws -> CallbackInstance { try CallbackInstance(registry: registry, name: info.name, parameters: parameters) }
        report.record(info.name, "lifecycle twice") { try PluginValidator.lifecycleTwice(make) }
        report.record(info.name, "state round trip") { try PluginValidator.stateRoundTrip(make) }
        report.record(info.name, "every event of a synthetic run accepted") {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aglm-validate-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let callback = try make()
            var rng = RandomGenerator(seed: 3)
            let weights = [Tensor.randn([6, 4], rng: &rng), Tensor.randn([4], rng: &rng)]
            weights[0].name = "blocks.0.mlp.fc.weight"
            weights[1].name = "blocks.0.norm1.weight"
            callback.modelParameters = ModelParameters(weights, roles: [.hidden, .norm])
            var state = TrainerSnapshot()
            state.maxSteps = 4
            state.runDir = dir.path
            var control = TrainerControl()
            var events: [TrainingEvent] = [.trainBegin]
            for _ in 1...4 { events += [.stepBegin, .stepEnd] }
            events += [.evaluateBegin, .evaluate, .save, .trainEnd]
            var requests: [String] = []
            for event in events {
                if event == .stepEnd {
                    state.step += 1; state.loss = 3.0 / Double(state.step); state.lr = 1e-3; state.gradNorm = 0.5
                    state.tokensSeen += 64
                }
                if event == .evaluate { state.metrics = [Metric(name: "val/loss", value: 2.5), Metric(name: "val/perplexity", value: 12.2)] }
                try callback.onEvent(event, state: state, control: &control)
                if control.stop { requests.append("stop@\(event)") }
            }
            return "\(events.count) events" + (requests.isEmpty ? "" : "; requested " + requests.joined(separator: ", "))
        }
    }
}
