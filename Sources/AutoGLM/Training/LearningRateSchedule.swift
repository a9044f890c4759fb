import Foundation

/// Learning-rate schedules over optimizer steps.
public struct LearningRateSchedule: Sendable, Equatable {
    /// Shape after warmup (`train.lr_schedule`).
    public enum Shape: String, Sendable, CaseIterable, HostKeyChoice {
        /// Cosine decay from the peak to `minLR` over the remaining steps.
        case cosine
        /// Linear decay from the peak to `minLR`.
        case linear
        /// The peak throughout.
        case constant
    }

    /// Peak learning rate.
    public var peak: Double
    /// Final learning rate.
    public var minLR: Double
    /// Linear warmup steps.
    public var warmup: Int
    /// Total steps.
    public var total: Int
    /// Decay shape.
    public var shape: Shape

    /// Creates a schedule.
    public init(peak: Double, minLR: Double, warmup: Int, total: Int, shape: Shape) {
        self.peak = peak; self.minLR = minLR; self.warmup = warmup; self.total = total; self.shape = shape
    }

    /// The schedule `config` describes: warmup to `optimizer.lr`, then decay to `train.min_lr`
    /// over `train.steps`.
    public init(_ config: RunConfig) {
        self.init(peak: config.lr, minLR: config.train.minLR, warmup: config.train.warmupSteps,
                  total: config.train.steps, shape: config.train.lrSchedule)
    }

    /// Learning rate of 0-based step `it`; during warmup peak·(it+1)/(warmup+1), then the decay
    /// at progress (it − warmup)/(total − warmup) (exactly nanoGPT's recipe).
    public func lr(at it: Int) -> Double {
        if it < warmup { return peak * Double(it + 1) / Double(warmup + 1) }
        if shape == .constant || total <= warmup { return shape == .constant ? peak : minLR }
        let r = min(1, Double(it - warmup) / Double(total - warmup))
        switch shape {
        case .cosine: return minLR + 0.5 * (1 + cos(.pi * r)) * (peak - minLR)
        case .linear: return peak + (minLR - peak) * r
        case .constant: return peak
        }
    }
}
