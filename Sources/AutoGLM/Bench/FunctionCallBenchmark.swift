import Foundation

/// What one call of a function registered by prototype costs: `warmup_cosine` from the bundled
/// lr_schedules plugin through its libffi binding (positional and by name), the same C function
/// called directly through a typed function pointer, and the trainer's hook call (the default
/// `train.lr_schedule`, which builds the arguments and checks the result at every step). Rounds
/// alternate the four so they share the machine's noise; the medians are reported.
public enum FunctionCallBenchmark {
    /// One JSON line with nanoseconds per call.
    public static func run(registry: PluginRegistry, calls: Int = 1_000_000, rounds: Int = 5) throws -> String {
        guard let function = registry.function(named: "warmup_cosine") else {
            throw FunctionRegistrationError("warmup_cosine is not registered: build the bundled lr_schedules plugin (swift build -c release)")
        }
        let binding = function.binding
        typealias Schedule = @convention(c) (Int64, Double, Int64, Int64, Double) -> Double
        let direct = unsafeBitCast(binding.address, to: Schedule.self)
        let resolved = try ConfigLoader.load(file: nil, environment: [:], overrides: []).resolve(schemas: registry)
        let hooks = try TrainerHooks.bind(resolved, registry: registry)
        var inputs = TrainerHooks.Inputs(step: 0, totalSteps: 2000, epoch: 0, tokensSeen: 0, baseLR: 1e-3, baseGradClip: 1,
                                         baseAccumulation: 1, batchSize: 12)
        var sink = 0.0  // every result is summed, so no call can be dropped
        func step(_ i: Int) -> Int64 { Int64(i % 2100) }
        let variants: [(String, () throws -> Void)] = [
            ("ffi_call_ns", {
                for i in 0..<calls {
                    if case .double(let lr) = try binding.call([.int(step(i)), .double(1e-3), .int(100), .int(2000), .double(1e-4)]) { sink += lr }
                }
            }),
            ("ffi_named_call_ns", {
                for i in 0..<calls {
                    let args: [String: FunctionArgument] = ["step": .int(step(i)), "base_lr": .double(1e-3), "warmup": .int(100),
                                                            "total": .int(2000), "min_lr": .double(1e-4)]
                    if case .double(let lr) = try binding.call(named: args) { sink += lr }
                }
            }),
            ("direct_c_call_ns", { for i in 0..<calls { sink += direct(step(i), 1e-3, 100, 2000, 1e-4) } }),
            ("trainer_hook_ns", {
                for i in 0..<calls {
                    inputs.step = Int(step(i))
                    sink += try hooks.learningRate(inputs)
                }
            }),
        ]
        var times = [[Double]](repeating: [], count: variants.count)
        for _ in 0..<rounds {
            for (v, variant) in variants.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                try variant.1()
                times[v].append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(calls))
            }
        }
        let fields = variants.indices.map { v in String(format: "\"%@\": %.1f", variants[v].0, times[v].sorted()[rounds / 2]) }
        return "{\"function\": \"warmup_cosine\", \"calls\": \(calls), \"rounds\": \(rounds), " + fields.joined(separator: ", ")
            + String(format: ", \"checksum\": %.6f}", sink)
    }
}
