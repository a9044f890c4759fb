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
        case accumulationSteps = "accumulation_steps", requestedAccumulation = "requested_accumulation", batchRNG = "batch_rng", evalRNG = "eval_rng"
        case trainSeconds = "train_seconds", evalSeconds = "eval_seconds"
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
}
