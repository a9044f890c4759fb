import Foundation

/// A progress update from the session, for a terminal line, a log or an embedding program: one
/// per optimizer step and one per evaluation, and, while they run, the progress of an evaluation
/// and of reading and tokenizing the training text.
public struct TrainingProgress: Sendable {
    /// What happened.
    public enum Kind: Sendable, Equatable {
        /// An optimizer step finished.
        case step
        /// An evaluation finished.
        case evaluation
        /// An evaluation is running: `batch` of its `of` batches are done (0 before the first).
        /// The other fields are those of the last step.
        case evaluating(batch: Int, of: Int)
        /// The training text is being read: `bytes` of `of` bytes (the files' sizes). Reported
        /// while the session is built, before any step: the other fields are zero.
        case readingData(bytes: Int, of: Int)
        /// The text read is being tokenized: `done` of `of` units of work (each UTF-8 byte of the
        /// text counts once for the vocabulary and once for the ids). Like `readingData`, before
        /// any step.
        case tokenizing(done: Int, of: Int)
    }

    /// What the receiver wants the trainer to do next. Only the replies to `.step` and
    /// `.evaluation` are acted on; work that is underway always runs to its end.
    public enum Reply: Sendable {
        /// Go on.
        case proceed
        /// End training after this step (like a callback's stop request).
        case stop
    }

    /// What happened.
    public var kind: Kind
    /// Optimizer steps completed.
    public var step: Int
    /// Configured steps (`train.steps`).
    public var maxSteps: Int
    /// Mean training loss of the step.
    public var loss: Double
    /// Learning rate of the step.
    public var lr: Double
    /// Global gradient norm of the step, before clipping.
    public var gradNorm: Double
    /// Wall time of this step alone (0 for an evaluation).
    public var stepSeconds: Double
    /// Training tokens per second over the training so far.
    public var tokensPerSecond: Double
    /// Seconds of training and evaluation so far.
    public var elapsed: Double
    /// Whether this step was written to the run's log (every `train.log_interval` steps, the
    /// first and the last of a call; a step after which the receiver stops training is written
    /// after this report).
    public var logged: Bool
    /// Evaluation metrics (for `.evaluation`).
    public var metrics: [Metric]

    /// Estimated seconds to the last configured step.
    public var eta: Double { step > 0 ? elapsed / Double(step) * Double(max(maxSteps - step, 0)) : 0 }

    /// An update about loading the data (`.readingData`, `.tokenizing`): no step has run yet.
    static func loading(_ kind: Kind) -> TrainingProgress {
        TrainingProgress(kind: kind, step: 0, maxSteps: 0, loss: 0, lr: 0, gradNorm: 0, stepSeconds: 0,
                         tokensPerSecond: 0, elapsed: 0, logged: false, metrics: [])
    }
}

/// What a call that trained reports.
public struct TrainingResult: Sendable {
    /// Optimizer steps completed in the run so far.
    public var steps: Int
    /// Mean training loss of the last step.
    public var finalLoss: Double
    /// Metrics of the latest evaluation.
    public var metrics: [Metric]
    /// Wall time of training and evaluation so far.
    public var seconds: Double
    /// Wall time of the training steps alone so far.
    public var trainSeconds: Double
    /// Whether a callback (or the progress receiver) stopped training before the steps asked for.
    public var stoppedEarly: Bool

    /// The last value of `name` ("val/loss"), if evaluated.
    public func metric(_ name: String) -> Double? { metrics.first { $0.name == name }?.value }
}
