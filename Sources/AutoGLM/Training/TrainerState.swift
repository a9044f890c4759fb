import AutoGLMCore
import Foundation

/// Everything about a training run that changes from step to step, in one place (as llm.c keeps
/// it): the step counter, both random streams, what callbacks changed, the last step's figures
/// and the latest evaluation. Together with the weights, the optimizer's state buffers and the
/// components' own state it is the whole training state, which a checkpoint saves and a resume
/// restores.
public struct TrainerState: Sendable, Equatable, Codable {
    /// Optimizer steps completed.
    public internal(set) var step = 0
    /// Training tokens consumed.
    public internal(set) var tokensSeen = 0
    /// Mean training loss of the last step (NaN before the first).
    public internal(set) var loss = Double.nan
    /// Learning rate of the last step.
    public internal(set) var lr = 0.0
    /// Global gradient norm of the last step, before clipping.
    public internal(set) var gradNorm = Double.nan
    /// Clipping threshold of the last step (0: none).
    public internal(set) var gradClip = 0.0
    /// Multiplier on the optimizer's weight decay of the last step (`train.weight_decay_schedule`).
    public internal(set) var weightDecayScale = 1.0
    /// Multiplier on the scheduled learning rate set by callbacks.
    public internal(set) var lrScale = 1.0
    /// Micro-batches of the last step (what callbacks see as in force).
    public internal(set) var accumulationSteps: Int
    /// Micro-batches callbacks asked for from the next step on (`aglm_control.accumulation_steps`).
    var requestedAccumulation: Int
    /// Draws the training batches.
    var batchRNG: RandomGenerator
    /// Draws the evaluation batches.
    var evalRNG: RandomGenerator
    /// Metrics of the latest evaluation (`val/loss`, `val/<evaluator metric>`), in order.
    public internal(set) var metrics: [Metric] = []
    /// Wall time spent in training steps so far.
    public internal(set) var trainSeconds = 0.0
    /// Wall time spent in evaluations so far.
    public internal(set) var evalSeconds = 0.0
    /// Steps dropped for a non-finite loss or gradient (`train.on_nonfinite: skip`), in a row
    /// up to the last step.
    public internal(set) var skippedSteps = 0

    /// The state before the first step of a run with `config`'s seed and accumulation.
    init(config: RunConfig) {
        let seed = UInt64(config.train.seed)
        accumulationSteps = config.train.accumulationSteps
        requestedAccumulation = config.train.accumulationSteps
        batchRNG = RandomGenerator(seed: seed &+ 1)
        evalRNG = RandomGenerator(seed: seed &+ 2)
    }

    /// JSON keys, snake_case like the run log.
    enum CodingKeys: String, CodingKey {
        case step, loss, lr, metrics
        case tokensSeen = "tokens_seen", gradNorm = "grad_norm", lrScale = "lr_scale"
        case accumulationSteps = "accumulation_steps", requestedAccumulation = "requested_accumulation"
        case batchRNG = "batch_rng", evalRNG = "eval_rng", trainSeconds = "train_seconds", evalSeconds = "eval_seconds"
        case skippedSteps = "skipped_steps", gradClip = "grad_clip", weightDecayScale = "weight_decay_scale"
    }

    /// Reads a state written by `encode(to:)` (a non-finite loss or norm is written as null).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        step = try c.decode(Int.self, forKey: .step)
        tokensSeen = try c.decode(Int.self, forKey: .tokensSeen)
        loss = try c.decodeIfPresent(Double.self, forKey: .loss) ?? .nan
        lr = try c.decode(Double.self, forKey: .lr)
        gradNorm = try c.decodeIfPresent(Double.self, forKey: .gradNorm) ?? .nan
        gradClip = try c.decode(Double.self, forKey: .gradClip)
        weightDecayScale = try c.decodeIfPresent(Double.self, forKey: .weightDecayScale) ?? 1  // absent from checkpoints older than the hook
        lrScale = try c.decode(Double.self, forKey: .lrScale)
        accumulationSteps = try c.decode(Int.self, forKey: .accumulationSteps)
        requestedAccumulation = try c.decode(Int.self, forKey: .requestedAccumulation)
        batchRNG = try c.decode(RandomGenerator.self, forKey: .batchRNG)
        evalRNG = try c.decode(RandomGenerator.self, forKey: .evalRNG)
        metrics = try c.decode([Metric].self, forKey: .metrics)
        trainSeconds = try c.decode(Double.self, forKey: .trainSeconds)
        evalSeconds = try c.decode(Double.self, forKey: .evalSeconds)
        skippedSteps = try c.decode(Int.self, forKey: .skippedSteps)
        guard step >= 0, tokensSeen >= 0, accumulationSteps >= 1, requestedAccumulation >= 1, lrScale > 0,
              lrScale.isFinite, skippedSteps >= 0, weightDecayScale >= 0, weightDecayScale.isFinite else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "step, tokens, accumulation, lr_scale or weight_decay_scale out of range"))
        }
    }

    /// Writes every field under its snake_case key (JSON has no NaN: a non-finite loss or norm
    /// is written as null).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(step, forKey: .step)
        try c.encode(tokensSeen, forKey: .tokensSeen)
        try c.encode(loss.isFinite ? loss : nil, forKey: .loss)
        try c.encode(lr, forKey: .lr)
        try c.encode(gradNorm.isFinite ? gradNorm : nil, forKey: .gradNorm)
        try c.encode(gradClip, forKey: .gradClip)
        try c.encode(weightDecayScale, forKey: .weightDecayScale)
        try c.encode(lrScale, forKey: .lrScale)
        try c.encode(accumulationSteps, forKey: .accumulationSteps)
        try c.encode(requestedAccumulation, forKey: .requestedAccumulation)
        try c.encode(batchRNG, forKey: .batchRNG)
        try c.encode(evalRNG, forKey: .evalRNG)
        try c.encode(metrics, forKey: .metrics)
        try c.encode(trainSeconds, forKey: .trainSeconds)
        try c.encode(evalSeconds, forKey: .evalSeconds)
        try c.encode(skippedSteps, forKey: .skippedSteps)
    }

    /// The last value of metric `name` (e.g. `val/loss`), if evaluated.
    public func metric(_ name: String) -> Double? { metrics.first { $0.name == name }?.value }
}

/// A named value of an evaluation (`val/loss`, `val/perplexity`).
public struct Metric: Sendable, Equatable, Codable {
    /// Name, e.g. `val/loss`.
    public var name: String
    /// Value.
    public var value: Double

    /// Creates a metric.
    public init(name: String, value: Double) {
        self.name = name
        self.value = value
    }

    /// JSON keys.
    enum CodingKeys: String, CodingKey { case name, value }

    /// Reads a metric (null: NaN).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        value = try c.decodeIfPresent(Double.self, forKey: .value) ?? .nan
    }

    /// Writes a metric (JSON has no NaN: a non-finite value is written as null).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(value.isFinite ? value : nil, forKey: .value)
    }
}
