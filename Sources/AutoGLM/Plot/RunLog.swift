import Foundation

/// One run's `log.jsonl` as read back for plots and comparisons: the resolved config (first
/// record), then the step and evaluation records in the order they were written. Numbers the
/// trainer wrote as null (non-finite) or left out are NaN.
public struct RunLog: Sendable {
    /// A `{"kind":"step",...}` record.
    public struct Step: Sendable, Equatable {
        /// Optimizer steps completed.
        public var step: Int
        /// Mean training loss of the step.
        public var loss: Double
        /// Learning rate of the step.
        public var lr: Double
        /// Global gradient norm before clipping.
        public var gradNorm: Double
        /// Training throughput since the run began.
        public var tokensPerSecond: Double
        /// Wall time since training began.
        public var elapsedSeconds: Double

        /// A step record.
        public init(step: Int, loss: Double, lr: Double, gradNorm: Double, tokensPerSecond: Double, elapsedSeconds: Double) {
            self.step = step; self.loss = loss; self.lr = lr; self.gradNorm = gradNorm
            self.tokensPerSecond = tokensPerSecond; self.elapsedSeconds = elapsedSeconds
        }
    }

    /// A `{"kind":"eval",...}` record.
    public struct Evaluation: Sendable, Equatable {
        /// Step at which the evaluation ran.
        public var step: Int
        /// Wall time since training began.
        public var elapsedSeconds: Double
        /// Every metric of the record by name ("val/loss", "val/perplexity", ...).
        public var metrics: [String: Double]

        /// An evaluation record.
        public init(step: Int, elapsedSeconds: Double, metrics: [String: Double]) {
            self.step = step; self.elapsedSeconds = elapsedSeconds; self.metrics = metrics
        }
    }

    /// The run's name: its directory's name.
    public var name: String
    /// The log file read.
    public var path: String
    /// The resolved config, flattened to dotted keys ("attention.name" → "flash",
    /// "optimizer.lr" → "0.001").
    public var config: [String: String]
    /// Step records, in file order.
    public var steps: [Step]
    /// Evaluation records, in file order.
    public var evaluations: [Evaluation]
    /// The file did not end with a complete line (a run still being written); that line was
    /// left out.
    public var droppedPartialLine: Bool

    /// The run's components from its config, e.g. "flash, adamw" (nil if the config names none).
    public var components: String? {
        let names = ["attention.name", "optimizer.name"].compactMap { config[$0] }
        return names.isEmpty ? nil : names.joined(separator: ", ")
    }

    /// The name a legend shows: "r1 (flash, adamw)".
    public var label: String { components.map { "\(name) (\($0))" } ?? name }

    /// The values of one evaluation metric by step, in file order (evaluations without it are
    /// left out).
    public func metric(_ name: String) -> [(step: Int, value: Double)] {
        evaluations.compactMap { e in e.metrics[name].map { (e.step, $0) } }
    }
}
