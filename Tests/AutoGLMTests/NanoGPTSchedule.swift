import Foundation

/// nanoGPT's learning-rate formula written out (the reference the schedules of the lr_schedules
/// plugin, and the learning rates a run logs, are checked against): during warmup
/// peak·(step+1)/(warmup+1), then the decay at progress (step − warmup)/(total − warmup), clamped
/// to 1, down to `minLR`. `step` is 0-based.
enum NanoGPTSchedule {
    /// The decay after warmup.
    enum Shape { case cosine, linear, constant }

    /// The learning rate of `step`.
    static func lr(_ step: Int, peak: Double, minLR: Double, warmup: Int, total: Int, shape: Shape) -> Double {
        if step < warmup { return peak * Double(step + 1) / Double(warmup + 1) }
        if shape == .constant || total <= warmup { return shape == .constant ? peak : minLR }
        let r = min(1, Double(step - warmup) / Double(total - warmup))
        switch shape {
        case .cosine: return minLR + 0.5 * (1 + cos(.pi * r)) * (peak - minLR)
        case .linear: return peak + (minLR - peak) * r
        case .constant: return peak
        }
    }
}
