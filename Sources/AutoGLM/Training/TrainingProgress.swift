import Foundation

/// A progress update from the trainer, for a terminal line or a log.
public struct TrainingProgress: Sendable {
    /// What happened.
    public enum Kind: Sendable {
        /// A logged training step.
        case step
        /// An evaluation finished.
        case evaluation
    }

    /// What happened.
    public var kind: Kind
    /// Optimizer steps completed.
    public var step: Int
    /// Configured steps.
    public var maxSteps: Int
    /// Mean training loss of the step.
    public var loss: Double
    /// Learning rate of the step.
    public var lr: Double
    /// Training tokens per second since the start.
    public var tokensPerSecond: Double
    /// Seconds since the start.
    public var elapsed: Double
    /// Evaluation metrics (for `.evaluation`).
    public var metrics: [(name: String, value: Double)]

    /// Estimated seconds to the last step.
    public var eta: Double { step > 0 ? elapsed / Double(step) * Double(maxSteps - step) : 0 }
}

/// What a finished training run reports.
public struct TrainingResult: Sendable {
    /// Optimizer steps completed.
    public var steps: Int
    /// Mean training loss of the last step.
    public var finalLoss: Double
    /// Metrics of the last evaluation.
    public var metrics: [(name: String, value: Double)]
    /// Wall time of the training loop (evaluation included).
    public var seconds: Double
    /// Wall time of the training loop without the evaluations.
    public var trainSeconds: Double
    /// Whether a callback stopped the run early.
    public var stoppedEarly: Bool

    /// The last value of `name` ("val/loss"), if evaluated.
    public func metric(_ name: String) -> Double? { metrics.first { $0.name == name }?.value }
}
