import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// The trainer's hooks: functions by prototype giving the learning rate, the clipping threshold,
/// the micro-batches and the weight decay multiplier of each step, from the bundled lr_schedules plugin, a plugin of the
/// user's, the program itself and any shared library; every value is logged and checked against
/// the function's formula at every step, and every way of binding one wrongly is refused before
/// training starts with the key and the fix.
final class TrainerHookTests: XCTestCase {
    /// The fixtures' folder (step_decay and hook_functions compiled once).
    private static let fixtures: URL = {
        let dir = (try? PluginBuilder.temporaryDirectory("hooks")) ?? FileManager.default.temporaryDirectory
        for fixture in ["step_decay.c", "hook_functions.c"] { _ = try? PluginBuilder.compileFixture(fixture, into: dir) }
        return dir
    }()

    /// The tiny run of these tests (log every step).
    private static let base = ["model.n_layer=2", "model.n_head=2", "model.n_embd=32", "model.block_size=16",
                               "attention.name=causal_dense", "optimizer.lr=3e-3", "train.steps=12", "train.batch_size=8",
                               "train.warmup_steps=5", "train.min_lr=3e-4", "train.log_interval=1", "train.eval_interval=0",
                               "train.eval_batches=1", "train.seed=5", "evaluators="]

    /// A short run with `overrides` (after the tiny run's); returns the session and the step
    /// records. The program registers `halve_every` in-process, as an embedder would.
    private func train(_ overrides: [String]) throws -> (Session, [[String: Any]]) {
        var options = SessionOptions()
        options.overrides = Self.base + ["run.dir=\(try PluginBuilder.temporaryDirectory("hook-run").path)"] + overrides
        options.pluginDirectories = [Self.fixtures.path]
        options.data = .text(TrainingTests.corpus)
        options.registerComponents = { registry in
            let halve: @convention(c) (Int64, Double, Int64) -> Double = { step, base, every in base / Double(1 << Int(step / every)) }
            try registry.registerFunction(prototype: "double halve_every(int64_t step, double base_lr, int64_t every)",
                                          address: unsafeBitCast(halve, to: UnsafeRawPointer.self), origin: "in-process (TrainerHookTests)")
        }
        let session = try Session(options)
        _ = try session.train()
        let text = try String(contentsOf: session.runDirectory.appendingPathComponent("log.jsonl"), encoding: .utf8)
        let records = try text.split(separator: "\n").compactMap { line -> [String: Any]? in
            guard var record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            record["_line"] = String(line)
            return record
        }
        return (session, records.filter { $0["kind"] as? String == "step" })
    }

    /// A number of a record, read exactly from the record's own text.
    private func number(_ record: [String: Any], _ key: String) -> Double {
        guard let line = record["_line"] as? String else { return .nan }
        return LogLineNumber.value(key, in: line)
    }

    func testTheDefaultScheduleIsTheBundledPluginsNanoGPTCosineBitForBit() throws {
        let (session, steps) = try train([])
        let c = session.config
        XCTAssertEqual(steps.count, 12)
        for record in steps {
            let step = Int(number(record, "step"))
            XCTAssertEqual(number(record, "lr"), NanoGPTSchedule.lr(step - 1, peak: c.lr, minLR: c.train.minLR,
                                                                   warmup: c.train.warmupSteps, total: c.train.steps, shape: .cosine),
                           "step \(step)")
        }
        let (linear, linearSteps) = try train(["train.lr_schedule=linear"])
        for record in linearSteps {
            let step = Int(number(record, "step")), t = linear.config.train
            XCTAssertEqual(number(record, "lr"), NanoGPTSchedule.lr(step - 1, peak: linear.config.lr, minLR: t.minLR,
                                                                   warmup: t.warmupSteps, total: t.steps, shape: .linear))
        }
    }

    func testSchedulesFromAPluginTheProgramAndLibmDriveTraining() throws {
        // A user's plugin: StepLR.
        let (_, decay) = try train(["train.lr_schedule.function=step_decay", "train.lr_schedule.args.every=4",
                                    "train.lr_schedule.args.gamma=0.5"])
        XCTAssertEqual(decay.map { number($0, "lr") }, (0..<12).map { 3e-3 * pow(0.5, Double($0 / 4)) })
        // A function the program registered in-process.
        let (_, halved) = try train(["train.lr_schedule.function=halve_every", "train.lr_schedule.args.every=5"])
        XCTAssertEqual(halved.map { number($0, "lr") }, (0..<12).map { 3e-3 / Double(1 << ($0 / 5)) })
        // Any symbol of any shared library, declared by its prototype.
        let (_, capped) = try train(["train.lr_schedule.library=libm.so.6", "train.lr_schedule.symbol=fmin",
                                     "train.lr_schedule.prototype=double fmin(double base_lr, double cap)",
                                     "train.lr_schedule.args.cap=0.001"])
        XCTAssertEqual(capped.map { number($0, "lr") }, Array(repeating: 0.001, count: 12))
    }

    func testClippingAndAccumulationHooksAreLoggedAndUsed() throws {
        let (clipped, clipSteps) = try train(["train.grad_clip_schedule.function=clip_ramp"])
        XCTAssertEqual(clipSteps.map { number($0, "grad_clip") }, (0..<12).map { 1.0 * (1 + Double($0) / 4) })
        XCTAssertEqual(clipped.state.gradClip, 1 + 11.0 / 4)
        let (_, steps) = try train(["train.accumulation_schedule.function=accumulation_cycle"])
        XCTAssertEqual(steps.map { Int(number($0, "accumulation_steps")) }, (0..<12).map { 1 + $0 % 3 })
        // The micro-batches change only how the batch is split: the same sequences, weighted by
        // their share, give (up to rounding) the same losses as one micro-batch each step.
        let (_, plain) = try train([])
        XCTAssertEqual(plain.map { Int(number($0, "accumulation_steps")) }, Array(repeating: 1, count: 12))
        for (a, b) in zip(steps, plain) { XCTAssertEqual(number(a, "loss"), number(b, "loss"), accuracy: 2e-3) }
    }

    func testTheWeightDecayMultiplierIsLoggedAndReachesTheOptimizer() throws {
        // Without a function the multiplier is 1 at every step.
        let (_, plain) = try train([])
        XCTAssertEqual(plain.map { number($0, "weight_decay_scale") }, Array(repeating: 1, count: 12))
        // A plugin's function: logged at every step with its formula.
        let (ramped, ramp) = try train(["train.weight_decay_schedule.function=wd_ramp"])
        XCTAssertEqual(ramp.map { number($0, "weight_decay_scale") }, (0..<12).map { Double($0) / 12 })
        XCTAssertEqual(ramped.state.weightDecayScale, 11.0 / 12)
        // It reaches the optimizer (adamw with weight_decay 0.1): a constant multiplier s trains
        // exactly as weight_decay 0.1·s, and multiplier 0 exactly as no weight decay.
        func weights(_ overrides: [String]) throws -> [[Float]] {
            try train(["optimizer.weight_decay=0.1"] + overrides).0.model.parameters.map(\.values)
        }
        func constant(_ value: Double) -> [String] {
            ["train.weight_decay_schedule.library=libm.so.6", "train.weight_decay_schedule.symbol=fmin",
             "train.weight_decay_schedule.prototype=double fmin(double total_steps, double cap)",
             "train.weight_decay_schedule.args.cap=\(value)"]
        }
        let halved = try weights(constant(0.5))
        XCTAssertEqual(halved, try weights(["optimizer.weight_decay=0.05"]))
        XCTAssertNotEqual(halved, try weights([]))
        XCTAssertEqual(try weights(constant(0)), try weights(["optimizer.weight_decay=0"]))
        // A negative multiplier stops the run at its step.
        XCTAssertThrowsError(try train(constant(-1))) { error in
            XCTAssertTrue("\(error)".hasPrefix("step 1: train.weight_decay_schedule: fmin(total_steps=12.0, cap=-1.0) returned -1.0: a weight decay multiplier must be >= 0"), "\(error)")
        }
    }

    func testEveryBundledOptimizerScalesItsWeightDecayByTheMultiplier() throws {
        // For each optimizer with a weight decay: three steps with multiplier s and decay w give
        // bit for bit what decay w·s with multiplier 1 gives (the plugins compute w·s in double,
        // as the test does); s = 1 is today's update.
        let registry = TrainingTests.registry
        for name in ["adamw", "adam", "sgd", "lion", "lamb", "rmsprop", "adagrad", "muon", "adafactor"] {
            func run(decay: Double, scale: Double) throws -> [Float] {
                let w = Tensor(shape: [8, 6], values: (0..<48).map { Float(sin(Double($0))) }, requiresGrad: true)
                let b = Tensor(shape: [6], values: (0..<6).map { Float(cos(Double($0))) }, requiresGrad: true)
                let opt = try OptimizerInstance(registry: registry, name: name, parameters: ["weight_decay": .number(decay)],
                                                modelParameters: [w, b], roles: [.hidden, []])
                for step in 1...3 {
                    w.grad = Tensor(shape: w.shape, values: (0..<48).map { Float(cos(Double($0 * step))) })
                    b.grad = Tensor(shape: b.shape, values: (0..<6).map { Float(sin(Double($0 + step))) })
                    try opt.step(lr: 0.01, step: step, weightDecayScale: scale)
                }
                return w.values + b.values
            }
            for (w, s) in [(0.1, 0.5), (0.3, 2.5), (0.2, 0.0)] {
                XCTAssertEqual(try run(decay: w, scale: s), try run(decay: w * s, scale: 1), "\(name): decay \(w), multiplier \(s)")
            }
            XCTAssertNotEqual(try run(decay: 0.1, scale: 3), try run(decay: 0.1, scale: 1), "\(name) ignores the multiplier")
        }
    }

    func testTheBundledOptimizersReadTheMultiplierOnlyFromAHostThatPassesIt() throws {
        // ABI 1.4 negotiation of aglm_optim_step.weight_decay_scale, through the helper every
        // bundled optimizer calls: an older host's shorter struct leaves the coefficient alone.
        let dir = try PluginBuilder.temporaryDirectory("optim-wd")
        let program = dir.appendingPathComponent("optim_weight_decay").path
        let build = try PluginBuilder.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-I", PluginBuilder.includeDir,
                                           "-I", PluginBuilder.repoRoot.appendingPathComponent("plugins").path, "-o", program,
                                           PluginBuilder.fixturesDir + "/optim_weight_decay.c", "-lm"])
        XCTAssertEqual(build.status, 0, build.output)
        let run = try PluginBuilder.run([program])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.hasPrefix("ok 3 checks"), run.output)
    }

    func testAResultThatIsNotFiniteStopsTheRunWithTheStepAndTheArguments() throws {
        XCTAssertThrowsError(try train(["train.lr_schedule.function=nan_after", "train.lr_schedule.args.bad=5"])) { error in
            XCTAssertTrue(error is TrainingStopped, "\(error)")
            XCTAssertEqual("\(error)", "step 6: train.lr_schedule: nan_after(step=5, base_lr=0.003, bad=5) returned nan: the result is not finite; the last good state is checkpointed")
        }
    }

    func testEveryWrongBindingIsRefusedBeforeTrainingWithTheKey() throws {
        func refusal(_ overrides: [String]) -> String {
            do { _ = try train(overrides); return "no error" } catch { return "\(error)" }
        }
        let cosine = "double warmup_cosine(int64_t step, double base_lr, int64_t warmup, int64_t total, double min_lr)"
        XCTAssertTrue(refusal(["train.lr_schedule.function=warmup_cosin"]).hasPrefix(
            "--set train.lr_schedule.function=warmup_cosin: no function named 'warmup_cosin' (did you mean 'warmup_cosine'?); functions: "))
        XCTAssertEqual(refusal(["train.lr_schedule.function=warmup_cosine", "train.lr_schedule.args.warmup=10",
                                "train.lr_schedule.args.total=100"]),
                       "--set train.lr_schedule.function=warmup_cosine: argument 'min_lr' (double) of warmup_cosine is missing: give train.lr_schedule.args.min_lr (the trainer supplies step, total_steps, epoch, tokens_seen, base_lr) — \(cosine)")
        XCTAssertEqual(refusal(["train.lr_schedule.function=step_decay", "train.lr_schedule.args.every=4",
                                "train.lr_schedule.args.gamma=0.5", "train.lr_schedule.args.gama=1"]),
                       "--set train.lr_schedule.args.gama=1: step_decay has no parameter 'gama' (did you mean 'gamma'?) (double step_decay(int64_t step, double base_lr, int64_t every, double gamma))")
        XCTAssertEqual(refusal(["train.lr_schedule.function=step_decay", "train.lr_schedule.args.every=4.5",
                                "train.lr_schedule.args.gamma=0.5"]),
                       "--set train.lr_schedule.args.every=4.5: \(try expectedIntegerMessage())")
        XCTAssertEqual(refusal(["train.lr_schedule=cosine", "train.lr_schedule.args.step=3"]),
                       "--set train.lr_schedule.args.step=3: 'step' is supplied by the trainer; remove it (\(cosine))")
        XCTAssertTrue(refusal(["train.lr_schedule.library=libm.so.6", "train.lr_schedule.prototype=double no_such_fn(double base_lr)"])
            .contains("library 'libm.so.6' has no symbol 'no_such_fn'"))
        XCTAssertTrue(refusal(["train.lr_schedule.library=libnothere.so", "train.lr_schedule.prototype=double f(double base_lr)"])
            .contains("cannot open library 'libnothere.so'"))
        XCTAssertTrue(refusal(["train.lr_schedule.library=libm.so.6"]).contains("needs its prototype"))
        XCTAssertEqual(refusal(["train.lr_schedule.function=step_decay", "train.lr_schedule.library=libm.so.6"]),
                       "--set train.lr_schedule.library=libm.so.6: give either function (a registered one) or library (with prototype), not both")
        XCTAssertEqual(refusal(["train.lr_schedule.prototype=double f(double x)"]),
                       "--set train.lr_schedule.prototype=double f(double x): a prototype belongs to a function from a library: add train.lr_schedule.library")
        XCTAssertEqual(refusal(["train.lr_schedule.function=text_result"]),
                       "--set train.lr_schedule.function=text_result: text_result returns const char *; a hook's function returns a number: const char *text_result(int64_t step)")
        XCTAssertEqual(refusal(["train.lr_schedule.function=with_buffer"]),
                       "--set train.lr_schedule.function=with_buffer: parameter 'x' is a buffer; a hook's parameters are numbers (double with_buffer(const float *x, size_t n))")
        XCTAssertEqual(refusal(["train.grad_clip_schedule.function=nan_after"]),
                       "--set train.grad_clip_schedule.function=nan_after: argument 'bad' (int64_t) of nan_after is missing: give train.grad_clip_schedule.args.bad (the trainer supplies step, total_steps, epoch, tokens_seen, base_lr, grad_norm, base_grad_clip) — double nan_after(int64_t step, double base_lr, int64_t bad)")
    }

    /// What the function layer says of "4.5" for an int64_t parameter.
    private func expectedIntegerMessage() throws -> String {
        let prototype = try CPrototype.parse("double step_decay(int64_t step, double base_lr, int64_t every, double gamma)")
        do { _ = try FunctionTextArguments(["every=4.5"], prototype: prototype); return "no error" } catch { return "\(error)" }
    }

    func testAHookFieldTypoIsAnUnknownKey() throws {
        XCTAssertThrowsError(try ConfigLoader.load(file: nil, environment: [:], overrides: ["train.lr_schedule.fuction=x"])) {
            XCTAssertEqual("\($0)", "--set train.lr_schedule.fuction=x: unknown field of the hook train.lr_schedule (fields: function, library, symbol, prototype, args.NAME) (did you mean 'train.lr_schedule.function'?)")
        }
        let resolved = try ConfigLoader.load(file: nil, environment: ["AUTOGLM_TRAIN_LR_SCHEDULE_ARGS_MIN_LR": "1e-5"],
                                             overrides: []).resolve(schemas: TrainingTests.registry)
        XCTAssertEqual(resolved.config.train.lrSchedule, { var b = HookBinding(shorthand: "cosine"); b.args = ["min_lr": "1e-5"]; return b }())
        XCTAssertEqual(resolved.entry(forKey: "train.lr_schedule.args.min_lr")?.source, .environment("AUTOGLM_TRAIN_LR_SCHEDULE_ARGS_MIN_LR"))
    }
}
