import AutoGLMCore
import Foundation

/// The training loop: warmup + decay schedule, gradient accumulation with a constant effective
/// batch, clipping by global norm, optimizer/evaluator/callback plugins, periodic evaluation,
/// JSON-lines log and weights in the run directory.
public final class Trainer {
    /// The model being trained.
    public let model: GPT
    private let options: TrainingOptions
    private let dataset: TokenDataset
    private let tokenizer: CharTokenizer
    private let optimizer: OptimizerInstance
    private let evaluators: [EvaluatorInstance]
    private let callbacks: [CallbackInstance]
    private let runDir: RunDirectory
    private let progress: (TrainingProgress) -> Void
    private var rng: RandomGenerator
    private var evalRNG: RandomGenerator

    /// Builds the model and every component. Fails (before training) on any plugin error.
    public init(options: TrainingOptions, registry: PluginRegistry, dataset: TokenDataset, tokenizer: CharTokenizer,
                progress: @escaping (TrainingProgress) -> Void = { _ in }) throws {
        self.options = options
        self.dataset = dataset
        self.tokenizer = tokenizer
        self.progress = progress
        Kernels.setThreads(options.threads)
        var shape = options.model
        shape.vocabSize = tokenizer.count
        model = try GPT(config: shape, attention: options.attention, registry: registry, seed: options.seed)
        optimizer = try OptimizerInstance(registry: registry, name: options.optimizer.name,
                                          parameters: options.optimizer.parameters, modelParameters: model.parameters)
        evaluators = try options.evaluators.map { try EvaluatorInstance(registry: registry, name: $0.name, parameters: $0.parameters) }
        callbacks = try options.callbacks.map { try CallbackInstance(registry: registry, name: $0.name, parameters: $0.parameters) }
        runDir = try RunDirectory(path: options.runDir)
        rng = RandomGenerator(seed: options.seed &+ 1)
        evalRNG = RandomGenerator(seed: options.seed &+ 2)
    }

    /// Trains for the configured steps (or until a callback stops it) and writes the weights.
    public func run() throws -> TrainingResult {
        try runDir.save(tokenizer: tokenizer)
        runDir.appendLog(json: options.resolvedConfigJSON)
        let schedule = LearningRateSchedule(peak: options.lr, minLR: options.minLR, warmup: options.warmupSteps,
                                            total: options.steps, shape: options.schedule)
        var control = TrainerControl(accumulationSteps: options.accumulationSteps)
        var state = TrainerSnapshot()
        state.maxSteps = options.steps
        state.runDir = runDir.url.path
        state.accumulationSteps = control.accumulationSteps
        let start = Date()
        let seq = model.config.blockSize
        try emit(.trainBegin, &state, &control, start)
        var step = 0
        var evalSeconds = 0.0
        while step < options.steps && !control.stop {
            try emit(.stepBegin, &state, &control, start)
            let lr = schedule.lr(at: step) * control.lrScale
            let loss = try trainStep(lr: lr, step: step + 1, accumulation: control.accumulationSteps, seq: seq, state: &state)
            step += 1
            state.step = step
            state.loss = loss
            state.lr = lr
            state.tokensSeen += options.batchSize * seq
            state.epoch = state.tokensSeen / max(dataset.train.count, 1)
            try emit(.stepEnd, &state, &control, start)
            let last = step == options.steps || control.stop
            if step % options.logInterval == 0 || last || step == 1 { logStep(state, start) }
            if (options.evalInterval > 0 && step % options.evalInterval == 0) || last || control.evaluate {
                control.evaluate = false
                let evalStart = Date()
                state.metrics = try evaluate()
                evalSeconds += Date().timeIntervalSince(evalStart)
                logEvaluation(state, start)
                try emit(.evaluate, &state, &control, start)
            }
            if control.save {
                control.save = false
                if try saveIfFinite(step: step) { try emit(.save, &state, &control, start) }
            }
        }
        _ = try saveIfFinite(step: step)
        try emit(.trainEnd, &state, &control, start)
        let seconds = Date().timeIntervalSince(start)
        return TrainingResult(steps: step, finalLoss: state.loss, metrics: state.metrics, seconds: seconds,
                              trainSeconds: seconds - evalSeconds, stoppedEarly: step < options.steps)
    }

    /// Writes the weights unless one of them is NaN or infinite (after a divergence), so the
    /// last good weights on disk are never replaced by broken ones. Returns whether it wrote.
    private func saveIfFinite(step: Int) throws -> Bool {
        if let bad = model.parameters.first(where: { p in !(0..<p.count).allSatisfy { p.data[$0].isFinite } }) {
            HostAPI.logger.warning("not saving weights at step \(step): \(bad.name ?? "a parameter") holds NaN or Inf; \(runDir.url.path) keeps the last finite weights")
            return false
        }
        try runDir.save(model: model, attention: options.attention, step: step)
        return true
    }

    /// One optimizer step over `batchSize` sequences split into `accumulation` micro-batches whose
    /// losses are weighted by their share of the batch, so the gradient equals the full batch's.
    private func trainStep(lr: Double, step: Int, accumulation: Int, seq: Int, state: inout TrainerSnapshot) throws -> Double {
        let params = model.parameters
        for p in params { p.grad = nil }
        let parts = min(max(accumulation, 1), options.batchSize)
        var total = 0.0
        for part in 0..<parts {
            let rows = options.batchSize / parts + (part < options.batchSize % parts ? 1 : 0)
            let (x, y) = TokenDataset.batch(from: dataset.train, batch: rows, seq: seq, rng: &rng)
            let (loss, _) = try model.loss(ids: x, targets: y, batch: rows, seq: seq)
            let share = Float(rows) / Float(options.batchSize)
            total += Double(loss.item) * Double(share)
            try Ops.affine(loss, scale: share, shift: 0).backward()
        }
        state.accumulationSteps = parts
        state.gradNorm = clipGradients(params)
        try Autograd.withNoGrad { try optimizer.step(lr: lr, step: step) }
        return total
    }

    /// Global L2 norm of all gradients (before clipping); scales them down to `gradClip` if above.
    /// One task per gradient on the worker pool; the per-tensor sums are added in parameter
    /// order, so the norm does not depend on the thread count.
    private func clipGradients(_ params: [Tensor]) -> Double {
        let grads = params.compactMap(\.grad)
        var sums = [Double](repeating: 0, count: grads.count)
        sums.withUnsafeMutableBufferPointer { out in
            Kernels.runTasks(grads.count) { i in out[i] = Kernels.sumOfSquares(grads[i].data, grads[i].count) }
        }
        let norm = sums.reduce(0, +).squareRoot()
        if options.gradClip > 0 {
            let coef = Float(options.gradClip / (norm + 1e-6))
            if coef < 1 {
                Kernels.runTasks(grads.count) { i in Kernels.scale(grads[i].data, grads[i].count, coef) }
            }
        }
        return norm
    }

    /// Mean validation loss over `evalBatches` random batches, plus every evaluator's metrics.
    public func evaluate() throws -> [(name: String, value: Double)] {
        for e in evaluators { try e.reset() }
        var lossSum = 0.0
        let seq = model.config.blockSize
        try Autograd.withNoGrad {
            for _ in 0..<max(options.evalBatches, 1) {
                let (x, y) = TokenDataset.batch(from: dataset.validation, batch: options.batchSize, seq: seq, rng: &evalRNG)
                let (loss, logits) = try model.loss(ids: x, targets: y, batch: options.batchSize, seq: seq)
                lossSum += Double(loss.item)
                for e in evaluators { try e.update(logits: logits, targets: y) }
            }
        }
        var metrics: [(name: String, value: Double)] = [("val/loss", lossSum / Double(max(options.evalBatches, 1)))]
        for e in evaluators {
            metrics += try e.compute().map { ("val/\($0.name)", $0.value) }
        }
        return metrics
    }

    private func emit(_ event: TrainingEvent, _ state: inout TrainerSnapshot, _ control: inout TrainerControl, _ start: Date) throws {
        guard !callbacks.isEmpty else { return }  // the snapshot's clock and /proc reads serve callbacks only
        state.elapsedSeconds = Date().timeIntervalSince(start)
        state.residentBytes = ProcessStats.residentBytes
        for c in callbacks { try c.onEvent(event, state: state, control: &control) }
    }

    private func logStep(_ state: TrainerSnapshot, _ start: Date) {
        let elapsed = Date().timeIntervalSince(start)
        let tps = Double(state.tokensSeen) / max(elapsed, 1e-9)
        runDir.appendLog(["kind": "step", "step": state.step, "loss": state.loss, "lr": state.lr,
                          "grad_norm": state.gradNorm, "tokens_per_s": tps, "elapsed_s": elapsed,
                          "accumulation_steps": state.accumulationSteps])
        progress(TrainingProgress(kind: .step, step: state.step, maxSteps: options.steps, loss: state.loss, lr: state.lr,
                                  tokensPerSecond: tps, elapsed: elapsed, metrics: []))
    }

    private func logEvaluation(_ state: TrainerSnapshot, _ start: Date) {
        let elapsed = Date().timeIntervalSince(start)
        var record: [String: Any] = ["kind": "eval", "step": state.step, "elapsed_s": elapsed]
        for m in state.metrics { record[m.name] = m.value }
        runDir.appendLog(record)
        progress(TrainingProgress(kind: .evaluation, step: state.step, maxSteps: options.steps, loss: state.loss,
                                  lr: state.lr, tokensPerSecond: Double(state.tokensSeen) / max(elapsed, 1e-9),
                                  elapsed: elapsed, metrics: state.metrics))
    }
}
