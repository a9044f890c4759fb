import AutoGLMCore
import Foundation

/// The training loop, the one implementation of a training step: warmup + decay schedule,
/// gradient accumulation with a constant effective batch, clipping by global norm, the optimizer,
/// evaluator and callback plugins, periodic evaluation, the JSON-lines log and the checkpoints in
/// the run directory. Built and driven by a `Session`; everything that changes lives in `state`.
///
/// Nothing is lost: a checkpoint is written every `checkpoint.every` steps (or at every
/// evaluation), whenever a callback asks, and at every stop — the end of a call, a stop request,
/// a non-finite step under `train.on_nonfinite: stop`, and an error of a plugin or of the host,
/// with the last good state (the state before the failed step, unless the failure came while the
/// optimizer was changing the weights, when the previous checkpoint is the last good state).
final class Trainer {
    /// The run's configuration, with the source of every value.
    let resolved: ResolvedConfig
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
    /// The run's vocabulary (saved in every checkpoint).
    let tokenizer: CharTokenizer
    /// Where the log and the checkpoints go.
    let runDirectory: RunDirectory
    /// Receives every step and evaluation; may ask to stop.
    var progress: (TrainingProgress) -> TrainingProgress.Reply
    /// Polled once per step: true ends training after the current step (a signal, the program).
    var stopRequested: () -> Bool = { false }
    /// Everything that changes while training.
    var state: TrainerState
    /// This process's rank in data-parallel training (`single`: alone), set by the session.
    var parallel = DataParallel.single
    /// The functions giving the learning rate (and, when configured, the clipping threshold and
    /// the micro-batches) of each step.
    private let hooks: TrainerHooks
    /// The step of the latest evaluation (its metrics score that step's checkpoint).
    private var evaluatedStep: Int?
    /// The step of the latest checkpoint written.
    private var checkpointedStep: Int?

    /// A trainer of `model` from `state` (a fresh run's, or a checkpoint's).
    init(resolved: ResolvedConfig, model: GPT, optimizer: OptimizerInstance, evaluators: [EvaluatorInstance],
         callbacks: [CallbackInstance], dataset: TokenDataset, tokenizer: CharTokenizer, runDirectory: RunDirectory,
         hooks: TrainerHooks, state: TrainerState, progress: @escaping (TrainingProgress) -> TrainingProgress.Reply) {
        self.resolved = resolved
        self.model = model
        self.optimizer = optimizer
        self.evaluators = evaluators
        self.callbacks = callbacks
        self.dataset = dataset
        self.tokenizer = tokenizer
        self.runDirectory = runDirectory
        self.state = state
        self.progress = progress
        self.hooks = hooks
        let parameters = ModelParameters(model: model)  // what callbacks read and write (ABI 1.2)
        for c in callbacks { c.modelParameters = parameters }
    }

    /// The run's configuration.
    var config: RunConfig { resolved.config }

    /// Where a failure happened, which decides what the last good state is.
    private enum Phase {
        /// Before the optimizer touched the weights: the state before the step is intact.
        case beforeUpdate
        /// While the optimizer changed the weights: they may be half updated.
        case updating
        /// After the step completed (callbacks, evaluation, saving): the current state is good.
        case afterUpdate
    }

    /// Trains `steps` more optimizer steps, or until a callback, the progress receiver or a stop
    /// request ends it, evaluating every `train.eval_interval` steps, at the configured last step
    /// and on a stop, checkpointing as the type's comment says. Callbacks see TRAIN_BEGIN and
    /// TRAIN_END around each call.
    /// - Throws: `TrainingStopped` for a non-finite step (after checkpointing the last good
    ///   state), or the plugin's or host's error (after the same).
    func train(steps: Int) throws -> TrainingResult {
        guard !dataset.train.isEmpty else {
            throw DataError(message: "this session was opened to sample a trained run and holds no training data; open it for training (give data)")
        }
        let target = state.step + max(steps, 0)
        var control = TrainerControl(lrScale: state.lrScale, accumulationSteps: state.requestedAccumulation)
        var lastGood = state
        var phase = Phase.afterUpdate
        do {
            try emit(.trainBegin, &control)
            while state.step < target && !control.stop {
                lastGood = state
                phase = .beforeUpdate
                try emit(.stepBegin, &control)
                try step(&control, &phase, target: target)
                phase = .afterUpdate
                try afterStep(&control, target: target)
                keep(control)
            }
            if checkpointedStep != state.step { try checkpoint() }
            try emit(.trainEnd, &control)
            keep(control)
            try runDirectory.update { $0.status = state.step >= config.train.steps ? .finished : .stopped }
            parallel.ended(failed: false)
        } catch {
            try fail(with: error, phase: phase, lastGood: lastGood)
        }
        return TrainingResult(steps: state.step, finalLoss: state.loss, metrics: state.metrics,
                              seconds: state.trainSeconds + state.evalSeconds, trainSeconds: state.trainSeconds,
                              stoppedEarly: state.step < target)
    }

    /// One optimizer step and its bookkeeping (state, log, progress).
    private func step(_ control: inout TrainerControl, _ phase: inout Phase, target: Int) throws {
        let seq = model.config.blockSize
        let start = DispatchTime.now().uptimeNanoseconds
        var inputs = TrainerHooks.Inputs(step: state.step, totalSteps: config.train.steps,
                                         epoch: state.tokensSeen / max(dataset.train.count, 1), tokensSeen: state.tokensSeen,
                                         baseLR: config.lr, baseGradClip: config.train.gradClip,
                                         baseAccumulation: config.train.accumulationSteps, batchSize: config.train.batchSize)
        let lr = try hooks.learningRate(inputs) * control.lrScale
        let accumulation = try hooks.accumulationSteps(inputs) ?? min(max(control.accumulationSteps, 1), config.train.batchSize)
        let (loss, gradNorm) = try PluginError.during(step: state.step + 1) { try forwardBackward(accumulation: accumulation, seq: seq) }
        inputs.gradNorm = gradNorm
        let clip = try hooks.clip(inputs)
        let weightDecayScale = try hooks.weightDecayScale(inputs)
        var skipped = false
        if config.train.onNonfinite != .ignore, let bad = nonFinite(loss: loss, gradNorm: gradNorm) {
            guard config.train.onNonfinite == .skip, state.skippedSteps + 1 < config.train.maxSkippedSteps else {
                let skips = state.skippedSteps > 0 ? " after \(state.skippedSteps) skipped steps in a row" : ""
                throw TrainingStopped(message: "step \(state.step + 1): \(bad) is not finite\(skips) (train.on_nonfinite: \(config.train.onNonfinite.rawValue)); the last good state is checkpointed. Lower optimizer.lr, raise train.warmup_steps or check the data, then resume with --resume")
            }
            HostLog.emit(.warning, "step \(state.step + 1): \(bad) is not finite: the step is skipped (train.on_nonfinite: skip)")
            for p in model.parameters { p.grad = nil }
            skipped = true
        } else {
            clipGradients(norm: gradNorm, to: clip)
            phase = .updating
            try Autograd.withNoGrad { try optimizer.step(lr: lr, step: state.step + 1, weightDecayScale: weightDecayScale) }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        state.step += 1
        state.loss = loss
        state.lr = lr
        state.gradNorm = gradNorm
        state.gradClip = clip
        state.weightDecayScale = weightDecayScale
        state.accumulationSteps = accumulation
        state.skippedSteps = skipped ? state.skippedSteps + 1 : 0
        state.tokensSeen += config.train.batchSize * seq
        state.trainSeconds += seconds
        let last = state.step == config.train.steps || state.step == target
        let logged = state.step % config.train.logInterval == 0 || state.step == 1 || last || skipped
        if logged { logStep(skipped: skipped) }
        if report(.step, stepSeconds: seconds, logged: logged) == .stop || stopRequested() {
            control.stop = true
            control.interrupted = true
            if !logged { logStep(skipped: skipped) }  // the last step of the run is always in the log
        }
    }

    /// What follows a completed step: callbacks, evaluation, checkpoints.
    private func afterStep(_ control: inout TrainerControl, target: Int) throws {
        try emit(.stepEnd, &control)
        let interval = config.train.evalInterval
        var evaluated = false
        // A stop a callback asks for ends with an evaluation; an interruption from outside (a
        // signal, `requestStop`, the progress receiver) does not, so that the run resumed from
        // its checkpoint sees exactly the evaluations (and callback states) of an uninterrupted one.
        let finalEvaluation = control.stop && !control.interrupted
        if (interval > 0 && state.step % interval == 0) || state.step == config.train.steps || finalEvaluation || control.evaluate {
            control.evaluate = false
            try emit(.evaluateBegin, &control)
            state.metrics = try evaluate()
            evaluated = true
            logEvaluation()
            if report(.evaluation, stepSeconds: 0, logged: true) == .stop { control.stop = true }
            try emit(.evaluate, &control)
        }
        let every = config.checkpoint.every
        let periodic = every > 0 ? state.step % every == 0 : evaluated
        if control.save || periodic {
            control.save = false
            try checkpoint()
            try emit(.save, &control)
        }
    }

    /// The loss and gradient of the batch: `train.batch_size` sequences (this rank's share of
    /// them, under MPI) split into `accumulation` micro-batches whose losses are weighted by
    /// their share of the global batch, so the gradient equals the full batch's; under MPI the
    /// ranks' gradients are summed during the last backward. Returns the mean loss and the
    /// global gradient norm.
    private func forwardBackward(accumulation: Int, seq: Int) throws -> (Double, Double) {
        let params = model.parameters
        for p in params { p.grad = nil }
        let batchSize = config.train.batchSize
        let offsets = TokenDataset.offsets(in: dataset.train, batch: batchSize, seq: seq, rng: &state.batchRNG)
        let mine = parallel.rows(of: batchSize)
        let parts = min(accumulation, mine.count)
        var total = 0.0, first = mine.lowerBound
        for part in 0..<parts {
            let rows = mine.count / parts + (part < mine.count % parts ? 1 : 0)
            let (x, y) = TokenDataset.windows(from: dataset.train, offsets: offsets[first..<first + rows], seq: seq)
            first += rows
            let (loss, _) = try model.loss(ids: x, targets: y, batch: rows, seq: seq)
            let share = Float(rows) / Float(batchSize)
            total += Double(loss.item) * Double(share)
            try parallel.backward(Ops.affine(loss, scale: share, shift: 0), parameters: params, lastMicroBatch: part == parts - 1)
        }
        return (try parallel.sum([total])[0], globalNorm(params))
    }

    /// What is not finite in a step (the loss, or the first parameter whose gradient holds a NaN
    /// or an infinity), or nil.
    private func nonFinite(loss: Double, gradNorm: Double) -> String? {
        if !loss.isFinite { return "the training loss (\(loss))" }
        guard !gradNorm.isFinite else { return nil }
        let bad = model.parameters.first { p in p.grad.map { g in !(0..<g.count).allSatisfy { g.data[$0].isFinite } } ?? false }
        return "the gradient of \(bad?.name ?? "a parameter")"
    }

    /// Global L2 norm of all gradients. One task per gradient on the worker pool; the per-tensor
    /// sums are added in parameter order, so the norm does not depend on the thread count.
    private func globalNorm(_ params: [Tensor]) -> Double {
        let grads = params.compactMap(\.grad)
        var sums = [Double](repeating: 0, count: grads.count)
        sums.withUnsafeMutableBufferPointer { out in
            Kernels.runTasks(grads.count) { i in out[i] = Kernels.sumOfSquares(grads[i].data, grads[i].count) }
        }
        return sums.reduce(0, +).squareRoot()
    }

    /// Scales the gradients down so their global norm `norm` is at most `threshold` (0: no clipping).
    private func clipGradients(norm: Double, to threshold: Double) {
        guard threshold > 0, norm.isFinite else { return }
        let coef = Float(threshold / (norm + 1e-6))
        guard coef < 1 else { return }
        let grads = model.parameters.compactMap(\.grad)
        Kernels.runTasks(grads.count) { i in Kernels.scale(grads[i].data, grads[i].count, coef) }
    }

    /// Keeps what callbacks asked for in the state, for the next step and the next call.
    private func keep(_ control: TrainerControl) {
        state.lrScale = control.lrScale
        state.requestedAccumulation = control.accumulationSteps
    }

    /// Mean validation loss over `train.eval_batches` random batches, plus every evaluator's
    /// metrics (named `val/<metric>`). Reports `.evaluating` before the first batch and after each.
    func evaluate() throws -> [Metric] {
        guard !dataset.validation.isEmpty else {
            throw DataError(message: "this session was opened to sample a trained run and holds no validation data")
        }
        let seq = model.config.blockSize, batchSize = config.train.batchSize
        return try evaluate(batches: config.train.evalBatches, prefix: "val/") { _ in
            let offsets = TokenDataset.offsets(in: dataset.validation, batch: batchSize, seq: seq, rng: &state.evalRNG)
            let (x, y) = TokenDataset.windows(from: dataset.validation, offsets: offsets[...], seq: seq)
            return EvaluationBatch(inputs: x, targets: y, rows: batchSize, seq: seq, weight: 1)
        }
    }

    /// The one evaluation loop: the loss of each of `batches` global batches that `batch` makes
    /// (called with 0, 1, …; each rank of a data-parallel run computes its rows), averaged with
    /// the batches' weights, and every evaluator's metrics over them all (on rank 0, from the
    /// gathered logits), named `<prefix><metric>`. Reports `.evaluating` before the first batch
    /// and after each.
    func evaluate(batches: Int, prefix: String, batch: (Int) throws -> EvaluationBatch) throws -> [Metric] {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { state.evalSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        for e in evaluators { try e.reset() }
        var lossSum = 0.0, weightSum = 0.0
        _ = report(.evaluating(batch: 0, of: batches), stepSeconds: 0, logged: false)
        try Autograd.withNoGrad {
            for index in 0..<batches {
                let b = try batch(index)
                let mine = parallel.rows(of: b.rows)
                let x = Array(b.inputs[mine.lowerBound * b.seq..<mine.upperBound * b.seq])
                let y = Array(b.targets[mine.lowerBound * b.seq..<mine.upperBound * b.seq])
                let (loss, logits) = try model.loss(ids: x, targets: y, batch: mine.count, seq: b.seq)
                lossSum += Double(loss.item) * b.weight * (Double(mine.count) / Double(b.rows))
                weightSum += b.weight
                if !evaluators.isEmpty, let (all, targets) = try parallel.gather(logits: logits, targets: y, batchRows: b.rows, seq: b.seq) {
                    for e in evaluators { try e.update(logits: all, targets: targets) }
                }
                _ = report(.evaluating(batch: index + 1, of: batches), stepSeconds: 0, logged: false)
            }
        }
        var metrics = [Metric(name: prefix + "loss", value: try parallel.sum([lossSum])[0] / weightSum)]
        if parallel.isRoot {
            for e in evaluators {
                metrics += try e.compute().map { Metric(name: prefix + $0.name, value: $0.value) }
            }
        }
        return try parallel.broadcast(metrics)
    }

    // MARK: Checkpoints

    /// Writes a checkpoint of the current state into the run directory (scoring it by
    /// `checkpoint.best_metric` when that was evaluated at this step). Under MPI every rank first
    /// checks that all hold the same weights and optimizer state (unless `checkRanks` is false:
    /// after a failure, which may be this rank's alone); rank 0 alone writes.
    func checkpoint(checkRanks: Bool = true) throws {
        guard model.parameters.allSatisfy({ p in (0..<p.count).allSatisfy { p.data[$0].isFinite } }) else {
            HostLog.emit(.warning, "not checkpointing step \(state.step): the weights hold NaN or Inf; the last checkpoint keeps the last finite state")
            return
        }
        if checkRanks { try parallel.checkInSync(model.parameters + optimizer.stateTensors.map(\.tensor), step: state.step) }
        guard parallel.isRoot else { checkpointedStep = state.step; return }
        let metric = config.checkpoint.bestMetric
        let score = metric.isEmpty || evaluatedStep != state.step
            ? nil : state.metric(metric).map { (metric, $0, config.checkpoint.bestMode == .min) }
        try runDirectory.save(try snapshot(), keepLast: config.checkpoint.keepLast, score: score)
        checkpointedStep = state.step
        try runDirectory.update { r in
            r.step = state.step
            r.metrics = state.metrics
            r.seconds = state.trainSeconds + state.evalSeconds
            r.tokensPerSecond = tokensPerSecond
        }
    }

    /// The whole training state now, as a checkpoint.
    func snapshot() throws -> Checkpoint {
        var components: [CheckpointManifest.Component] = []
        func record(_ instance: ComponentInstance, _ label: String) throws {
            let info = instance.info
            components.append(.init(kind: info.kind.rawValue, name: info.name, version: info.version, file: info.file,
                                    instance: label, state: try instance.saveState().map { Data($0).base64EncodedString() }))
        }
        for (index, block) in model.blocks.enumerated() { try record(block.attention, "blocks.\(index)") }
        try record(optimizer, "optimizer")
        for (index, e) in evaluators.enumerated() { try record(e, "evaluators.\(index)") }
        for (index, c) in callbacks.enumerated() { try record(c, "callbacks.\(index)") }
        let attention = resolved.entries.filter { $0.key.hasPrefix("attention.") }
        return Checkpoint(weights: model.parameters.map { ($0.name ?? "", $0) },
                          optimizerState: optimizer.stateTensors.map { ("optim/\($0.name)", $0.tensor) },
                          manifest: CheckpointManifest(createdAt: RunRecord.timestamp(), trainer: state, components: components),
                          configJSON: resolved.jsonObject, tokenizer: tokenizer, model: model.config,
                          attentionJSON: JSONText.object(dottedKeys: attention.map { (String($0.key.dropFirst("attention.".count)), $0.json) }))
    }

    /// Puts the training state of `checkpoint` into this trainer: weights, optimizer buffers,
    /// components' own state and the trainer state. With `allowComponentChanges`, a component the
    /// checkpoint does not have in its place (another evaluator, say) starts afresh instead.
    /// - Throws: `CheckpointError` when the checkpoint is not of this model and these components
    ///   (a tensor or a component missing, extra or shaped differently), naming what differs.
    func restore(_ checkpoint: Checkpoint, allowComponentChanges: Bool = false) throws {
        try Self.copy(checkpoint.weights, into: model.parameters.map { ($0.name ?? "", $0) }, what: "weights")
        // A checkpoint from before the per-parameter update counters ("/_step") were saved:
        // every parameter was updated at every step.
        let counters = checkpoint.optimizerState.contains { $0.name.hasSuffix("/_step") }
        try Self.copy(checkpoint.optimizerState, into: optimizer.stateTensors.filter { counters || !$0.name.hasSuffix("/_step") }
            .map { ("optim/\($0.name)", $0.tensor) }, what: "optimizer state")
        if !counters { optimizer.resetUpdateCounts(to: checkpoint.manifest.trainer.step) }
        var instances: [(String, ComponentInstance)] = model.blocks.enumerated().map { ("blocks.\($0)", $1.attention) }
        instances.append(("optimizer", optimizer))
        instances += evaluators.enumerated().map { ("evaluators.\($0)", $1) }
        instances += callbacks.enumerated().map { ("callbacks.\($0)", $1) }
        let saved = Dictionary(checkpoint.manifest.components.map { ($0.instance, $0) }, uniquingKeysWith: { a, _ in a })
        for (label, instance) in instances {
            guard let record = saved[label], record.name == instance.info.name, record.kind == instance.info.kind.rawValue else {
                if allowComponentChanges { continue }
                throw CheckpointError(message: "the checkpoint has no \(instance.info.kind.rawValue) '\(instance.info.name)' as \(label); it was written by a run with other components")
            }
            if let text = record.state {
                guard let bytes = Data(base64Encoded: text) else {
                    throw CheckpointError(message: "the saved state of \(record.kind) '\(record.name)' (\(label)) is not base64; the checkpoint is damaged")
                }
                try instance.loadState([UInt8](bytes))
            }
        }
        state = checkpoint.manifest.trainer
    }

    /// Copies saved tensors into `targets`, which must be the same names with the same shapes.
    private static func copy(_ saved: [(name: String, tensor: Tensor)], into targets: [(String, Tensor)], what: String) throws {
        let byName = Dictionary(saved.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        let names = Set(targets.map(\.0))
        if let extra = saved.first(where: { !names.contains($0.name) }) {
            throw CheckpointError(message: "the checkpoint's \(what) holds '\(extra.name)', which this model does not have")
        }
        for (name, target) in targets {
            guard let source = byName[name] else {
                throw CheckpointError(message: "the checkpoint's \(what) lacks '\(name)'")
            }
            guard source.shape == target.shape else {
                throw CheckpointError(message: "the checkpoint's \(what) '\(name)' is \(source.shape), the model's is \(target.shape)")
            }
            target.data.update(from: source.data, count: target.count)
        }
    }

    /// Ends a failed `train` call: checkpoints the last good state (when there is one), records
    /// the failure in run.json and rethrows.
    private func fail(with error: Error, phase: Phase, lastGood: TrainerState) throws -> Never {
        var message = "\(error)"
        switch phase {
        case _ where error is RanksDrifted:  // no rank's state is known good: nothing is written
            let latest = (try? RunDirectory.readRecord(runDirectory.url))?.latest  // as rank 0 wrote it
            message += "; the last good state is the previous checkpoint (\(latest ?? "none yet"))"
        case .beforeUpdate, .afterUpdate:
            if phase == .beforeUpdate { state = lastGood }
            do {
                if checkpointedStep != state.step { try checkpoint(checkRanks: false) }
            } catch {
                message += "; writing the last good state failed too: \(error)"
            }
        case .updating:
            message += "; the weights may be half updated, so the last good state is the previous checkpoint (\(runDirectory.record.latest ?? "none yet"))"
        }
        try? runDirectory.update { r in
            r.status = error is TrainingStopped ? .stopped : .failed
            r.error = message
        }
        parallel.ended(failed: true)
        if error is TrainingStopped { throw error }
        throw TrainingFailed(message: message, underlying: error)
    }

    // MARK: Events and records

    /// Delivers `event` to every callback with the current state; under MPI the ranks' requests
    /// are then combined, so every rank takes the same decisions.
    private func emit(_ event: TrainingEvent, _ control: inout TrainerControl) throws {
        guard !callbacks.isEmpty else { return try parallel.combine(&control) }  // the snapshot's /proc read serves callbacks only
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
        snapshot.rank = parallel.rank
        snapshot.worldSize = parallel.size
        for c in callbacks { try c.onEvent(event, state: snapshot, control: &control) }
        try parallel.combine(&control)
    }

    /// Tells the progress receiver about the last step, an evaluation, or one underway.
    private func report(_ kind: TrainingProgress.Kind, stepSeconds: Double, logged: Bool) -> TrainingProgress.Reply {
        guard parallel.isRoot else { return .proceed }  // rank 0 alone reports progress
        return progress(TrainingProgress(kind: kind, step: state.step, maxSteps: config.train.steps, loss: state.loss,
                                  lr: state.lr, gradNorm: state.gradNorm, stepSeconds: stepSeconds,
                                  tokensPerSecond: tokensPerSecond, elapsed: state.trainSeconds + state.evalSeconds,
                                  logged: logged, metrics: kind == .evaluation ? state.metrics : []))
    }

    /// Training tokens per second of training time so far.
    private var tokensPerSecond: Double { Double(state.tokensSeen) / max(state.trainSeconds, 1e-9) }

    /// Appends the last step's record to log.jsonl.
    private func logStep(skipped: Bool) {
        var record: [String: Any] = ["kind": "step", "step": state.step, "loss": state.loss, "lr": state.lr,
                                     "grad_norm": state.gradNorm, "tokens_per_s": tokensPerSecond,
                                     "elapsed_s": state.trainSeconds + state.evalSeconds,
                                     "accumulation_steps": state.accumulationSteps, "grad_clip": state.gradClip,
                                     "weight_decay_scale": state.weightDecayScale]
        if skipped { record["skipped"] = true }
        if parallel.size > 1 { record["allreduce_wait_s"] = parallel.lastWaitSeconds }
        runDirectory.appendLog(record)
    }

    /// Appends the latest evaluation's record to log.jsonl.
    private func logEvaluation() {
        var record: [String: Any] = ["kind": "eval", "step": state.step, "elapsed_s": state.trainSeconds + state.evalSeconds]
        for m in state.metrics { record[m.name] = m.value }
        runDirectory.appendLog(record)
        evaluatedStep = state.step
    }
}

/// Training ended on purpose before its steps were done, for a reason that needs the user
/// (a non-finite step): the last good state is checkpointed.
public struct TrainingStopped: Error, CustomStringConvertible, Sendable {
    /// What happened and what to do.
    public let message: String
    /// The message.
    public var description: String { message }
}

/// Training ended with an error (a plugin's or the host's), after checkpointing the last good
/// state where there is one.
public struct TrainingFailed: Error, CustomStringConvertible, Sendable {
    /// The error, and what became of the state.
    public let message: String
    /// The error that ended training.
    public let underlying: Error
    /// The message.
    public var description: String { message }
}
