import AutoGLMCore
import Foundation

/// The training loop, the one implementation of a training step: warmup + decay schedule,
/// gradient accumulation with a constant effective batch, clipping by global norm, the optimizer,
/// evaluator and callback plugins, periodic evaluation, the JSON-lines log and the weights in the
/// run directory. Built and driven by a `Session`; everything that changes lives in `state`.
final class Trainer {
    /// The run's configuration.
    let config: RunConfig
    /// The model being trained.
    let model: GPT
    /// Updates the parameters.
    let optimizer: OptimizerInstance
    /// Evaluators, in config order.
    let evaluators: [EvaluatorInstance]
    /// Callbacks, in config order.
    let callbacks: [CallbackInstance]
    /// Training and validation tokens.
    let dataset: TokenDataset
    /// Where the log and the weights go.
    let runDirectory: RunDirectory
    /// Receives every step and evaluation; may ask to stop.
    var progress: (TrainingProgress) -> TrainingProgress.Reply
    /// Everything that changes while training.
    var state: TrainerState
    /// The learning rate at each step.
    private let schedule: LearningRateSchedule

    /// A trainer of `model` from `state` (a fresh run's, or a checkpoint's).
    init(config: RunConfig, model: GPT, optimizer: OptimizerInstance, evaluators: [EvaluatorInstance],
         callbacks: [CallbackInstance], dataset: TokenDataset, runDirectory: RunDirectory, state: TrainerState,
         progress: @escaping (TrainingProgress) -> TrainingProgress.Reply) {
        self.config = config
        self.model = model
        self.optimizer = optimizer
        self.evaluators = evaluators
        self.callbacks = callbacks
        self.dataset = dataset
        self.runDirectory = runDirectory
        self.state = state
        self.progress = progress
        schedule = LearningRateSchedule(config)
    }

    /// Trains `steps` more optimizer steps, or until a callback or the progress receiver stops
    /// it, evaluating every `train.eval_interval` steps, at the configured last step and on a
    /// stop, and writes the weights at the end. Callbacks see TRAIN_BEGIN and TRAIN_END around
    /// each call.
    func train(steps: Int) throws -> TrainingResult {
        let target = state.step + max(steps, 0)
        let seq = model.config.blockSize
        var control = TrainerControl(lrScale: state.lrScale, accumulationSteps: state.requestedAccumulation)
        try emit(.trainBegin, &control)
        while state.step < target && !control.stop {
            try emit(.stepBegin, &control)
            let start = DispatchTime.now().uptimeNanoseconds
            let lr = schedule.lr(at: state.step) * control.lrScale
            let accumulation = min(max(control.accumulationSteps, 1), config.train.batchSize)
            let (loss, gradNorm) = try trainStep(lr: lr, step: state.step + 1, accumulation: accumulation, seq: seq)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            state.step += 1
            state.loss = loss
            state.lr = lr
            state.gradNorm = gradNorm
            state.accumulationSteps = accumulation
            state.tokensSeen += config.train.batchSize * seq
            state.trainSeconds += seconds
            try emit(.stepEnd, &control)
            let last = state.step == config.train.steps || state.step == target || control.stop
            let logged = state.step % config.train.logInterval == 0 || state.step == 1 || last
            if logged { logStep() }
            if report(.step, stepSeconds: seconds, logged: logged) == .stop {
                control.stop = true
                if !logged { logStep() }  // the last step of the run is always in the log
            }
            let interval = config.train.evalInterval
            if (interval > 0 && state.step % interval == 0) || state.step == config.train.steps || control.stop
                || control.evaluate {
                control.evaluate = false
                state.metrics = try evaluate()
                logEvaluation()
                if report(.evaluation, stepSeconds: 0, logged: true) == .stop { control.stop = true }
                try emit(.evaluate, &control)
            }
            if control.save {
                control.save = false
                if try saveIfFinite() { try emit(.save, &control) }
            }
            keep(control)
        }
        _ = try saveIfFinite()
        try emit(.trainEnd, &control)
        keep(control)
        return TrainingResult(steps: state.step, finalLoss: state.loss, metrics: state.metrics,
                              seconds: state.trainSeconds + state.evalSeconds, trainSeconds: state.trainSeconds,
                              stoppedEarly: state.step < target)
    }

    /// Keeps what callbacks asked for in the state, for the next step and the next call.
    private func keep(_ control: TrainerControl) {
        state.lrScale = control.lrScale
        state.requestedAccumulation = control.accumulationSteps
    }

    /// One optimizer step over `train.batch_size` sequences split into `accumulation`
    /// micro-batches whose losses are weighted by their share of the batch, so the gradient equals
    /// the full batch's. Returns the mean loss and the gradient norm before clipping.
    private func trainStep(lr: Double, step: Int, accumulation parts: Int, seq: Int) throws -> (Double, Double) {
        let params = model.parameters
        for p in params { p.grad = nil }
        let batchSize = config.train.batchSize
        var total = 0.0
        for part in 0..<parts {
            let rows = batchSize / parts + (part < batchSize % parts ? 1 : 0)
            let (x, y) = TokenDataset.batch(from: dataset.train, batch: rows, seq: seq, rng: &state.batchRNG)
            let (loss, _) = try model.loss(ids: x, targets: y, batch: rows, seq: seq)
            let share = Float(rows) / Float(batchSize)
            total += Double(loss.item) * Double(share)
            try Ops.affine(loss, scale: share, shift: 0).backward()
        }
        let norm = clipGradients(params)
        try Autograd.withNoGrad { try optimizer.step(lr: lr, step: step) }
        return (total, norm)
    }

    /// Global L2 norm of all gradients (before clipping); scales them down to `train.grad_clip` if
    /// above. One task per gradient on the worker pool; the per-tensor sums are added in parameter
    /// order, so the norm does not depend on the thread count.
    private func clipGradients(_ params: [Tensor]) -> Double {
        let grads = params.compactMap(\.grad)
        var sums = [Double](repeating: 0, count: grads.count)
        sums.withUnsafeMutableBufferPointer { out in
            Kernels.runTasks(grads.count) { i in out[i] = Kernels.sumOfSquares(grads[i].data, grads[i].count) }
        }
        let norm = sums.reduce(0, +).squareRoot()
        let clip = config.train.gradClip
        if clip > 0 {
            let coef = Float(clip / (norm + 1e-6))
            if coef < 1 {
                Kernels.runTasks(grads.count) { i in Kernels.scale(grads[i].data, grads[i].count, coef) }
            }
        }
        return norm
    }

    /// Mean validation loss over `train.eval_batches` random batches, plus every evaluator's
    /// metrics (named `val/<metric>`). Reports `.evaluating` before the first batch and after each.
    func evaluate() throws -> [Metric] {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { state.evalSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        for e in evaluators { try e.reset() }
        var lossSum = 0.0
        let seq = model.config.blockSize, batches = config.train.evalBatches, batchSize = config.train.batchSize
        _ = report(.evaluating(batch: 0, of: batches), stepSeconds: 0, logged: false)
        try Autograd.withNoGrad {
            for batch in 1...batches {
                let (x, y) = TokenDataset.batch(from: dataset.validation, batch: batchSize, seq: seq, rng: &state.evalRNG)
                let (loss, logits) = try model.loss(ids: x, targets: y, batch: batchSize, seq: seq)
                lossSum += Double(loss.item)
                for e in evaluators { try e.update(logits: logits, targets: y) }
                _ = report(.evaluating(batch: batch, of: batches), stepSeconds: 0, logged: false)
            }
        }
        var metrics = [Metric(name: "val/loss", value: lossSum / Double(batches))]
        for e in evaluators {
            metrics += try e.compute().map { Metric(name: "val/\($0.name)", value: $0.value) }
        }
        return metrics
    }

    /// Writes the weights unless one of them is NaN or infinite (after a divergence), so the
    /// last good weights on disk are never replaced by broken ones. Returns whether it wrote.
    private func saveIfFinite() throws -> Bool {
        if let bad = model.parameters.first(where: { p in !(0..<p.count).allSatisfy { p.data[$0].isFinite } }) {
            HostLog.emit(.warning, "not saving weights at step \(state.step): \(bad.name ?? "a parameter") holds NaN or Inf; \(runDirectory.url.path) keeps the last finite weights")
            return false
        }
        try runDirectory.save(model: model, attention: config.attention, step: state.step)
        return true
    }

    /// Delivers `event` to every callback with the current state.
    private func emit(_ event: TrainingEvent, _ control: inout TrainerControl) throws {
        guard !callbacks.isEmpty else { return }  // the snapshot's /proc read serves callbacks only
        var snapshot = TrainerSnapshot()
        snapshot.step = state.step
        snapshot.maxSteps = config.train.steps
        snapshot.epoch = state.tokensSeen / max(dataset.train.count, 1)
        snapshot.tokensSeen = state.tokensSeen
        snapshot.loss = state.loss
        snapshot.lr = state.lr
        snapshot.gradNorm = state.gradNorm
        snapshot.elapsedSeconds = state.trainSeconds + state.evalSeconds
        snapshot.accumulationSteps = state.accumulationSteps
        snapshot.metrics = state.metrics
        snapshot.runDir = runDirectory.url.path
        snapshot.residentBytes = ProcessStats.residentBytes
        for c in callbacks { try c.onEvent(event, state: snapshot, control: &control) }
    }

    /// Tells the progress receiver about the last step, an evaluation, or one underway.
    private func report(_ kind: TrainingProgress.Kind, stepSeconds: Double, logged: Bool) -> TrainingProgress.Reply {
        progress(TrainingProgress(kind: kind, step: state.step, maxSteps: config.train.steps, loss: state.loss,
                                  lr: state.lr, gradNorm: state.gradNorm, stepSeconds: stepSeconds,
                                  tokensPerSecond: tokensPerSecond, elapsed: state.trainSeconds + state.evalSeconds,
                                  logged: logged, metrics: kind == .evaluation ? state.metrics : []))
    }

    /// Training tokens per second of training time so far.
    private var tokensPerSecond: Double { Double(state.tokensSeen) / max(state.trainSeconds, 1e-9) }

    /// Appends the last step's record to log.jsonl.
    private func logStep() {
        runDirectory.appendLog(["kind": "step", "step": state.step, "loss": state.loss, "lr": state.lr,
                                "grad_norm": state.gradNorm, "tokens_per_s": tokensPerSecond,
                                "elapsed_s": state.trainSeconds + state.evalSeconds,
                                "accumulation_steps": state.accumulationSteps])
    }

    /// Appends the latest evaluation's record to log.jsonl.
    private func logEvaluation() {
        var record: [String: Any] = ["kind": "eval", "step": state.step, "elapsed_s": state.trainSeconds + state.evalSeconds]
        for m in state.metrics { record[m.name] = m.value }
        runDirectory.appendLog(record)
    }
}
