import AutoGLMCore
import Foundation

/// The values one searched key may take. Samplers work on a parameter's internal value (a
/// `Double`): the index of a choice, the number itself otherwise (Optuna's
/// `to_internal_repr`); numeric samplers also use the transformed axis (log for log scales)
/// and its bounds, where a step grid is widened by half a step on each side so that the end
/// points are as likely as the others (as `optuna/_transform.py` does).
public enum SearchDistribution: Sendable, Equatable, CustomStringConvertible {
    /// One of these values, as config text (`flash`, `0.1`, `true`).
    case choice([String])
    /// A number in [low, high]: uniform on the log axis when `log`, on a grid of `step` from
    /// `low` when a step is given (never both).
    case float(low: Double, high: Double, log: Bool, step: Double?)
    /// An integer in [low, high] on a grid of `step` from `low`, or uniform on the log axis
    /// (then `step` is 1).
    case int(low: Int, high: Int, log: Bool, step: Int)

    /// As written in a space file: `choice [a, b]`, `loguniform [1e-4, 0.01]`, `int [1, 8] step 2`.
    public var description: String {
        func number(_ d: Double) -> String { ParameterValue.number(d).description }
        switch self {
        case .choice(let values): return "choice [\(values.joined(separator: ", "))]"
        case let .float(low, high, log, step):
            return "\(log ? "loguniform" : "uniform") [\(number(low)), \(number(high))]" + (step.map { " step \(number($0))" } ?? "")
        case let .int(low, high, log, step):
            return "int [\(low), \(high)]" + (log ? " log" : "") + (step != 1 ? " step \(step)" : "")
        }
    }

    /// Whether the value is a choice index (a categorical parameter).
    public var isChoice: Bool {
        if case .choice = self { return true }
        return false
    }

    /// The text of an internal value for `--set key=VALUE`.
    public func text(_ value: Double) -> String {
        switch self {
        case .choice(let values): return values[min(max(Int(value), 0), values.count - 1)]
        case .int: return String(Int(value.rounded()))
        case .float: return ParameterValue.number(value).description
        }
    }

    /// Whether `value` (internal) is a value of this distribution (within bounds, on the grid).
    public func contains(_ value: Double) -> Bool {
        switch self {
        case .choice(let values):
            return value == value.rounded() && value >= 0 && Int(value) < values.count
        case let .float(low, high, _, step):
            guard value >= low, value <= high else { return false }
            guard let step else { return true }
            let k = (value - low) / step
            return abs(k - k.rounded()) < 1e-9
        case let .int(low, high, _, step):
            guard value == value.rounded(), value >= Double(low), value <= Double(high) else { return false }
            return (Int(value) - low) % step == 0
        }
    }

    /// Whether numeric values are sampled on the log axis.
    var isLog: Bool {
        switch self {
        case .choice: return false
        case .float(_, _, let log, _), .int(_, _, let log, _): return log
        }
    }

    /// The grid spacing on the transformed axis, for a stepped, linear distribution (nil: the
    /// transformed axis is continuous).
    var transformedStep: Double? {
        switch self {
        case .choice: return nil
        case .float(_, _, _, let step): return step
        case .int(_, _, let log, let step): return log ? nil : Double(step)
        }
    }

    /// The bounds of the transformed axis (widened by half a step on a grid, and by half an
    /// integer for a log-scale integer, so that every grid value has its share).
    var transformedBounds: (low: Double, high: Double) {
        switch self {
        case .choice(let values): return (0, Double(values.count - 1))
        case let .float(low, high, log, step):
            if log { return (Foundation.log(low), Foundation.log(high)) }
            let half = (step ?? 0) / 2
            return (low - half, high + half)
        case let .int(low, high, log, step):
            if log { return (Foundation.log(Double(low) - 0.5), Foundation.log(Double(high) + 0.5)) }
            return (Double(low) - Double(step) / 2, Double(high) + Double(step) / 2)
        }
    }

    /// An internal value on the transformed axis.
    func transform(_ value: Double) -> Double { isLog ? log(value) : value }

    /// The value of this distribution nearest to a point of the transformed axis: back from the
    /// log axis, onto the grid, within the bounds.
    func untransform(_ t: Double) -> Double {
        switch self {
        case .choice(let values): return min(max(t.rounded(), 0), Double(values.count - 1))
        case let .float(low, high, log, step):
            let x = log ? exp(t) : t
            guard let step else { return min(max(Self.significant(x), low), high) }
            let snapped = ((x - low) / step).rounded() * step + low
            return min(max(snapped, low), high - (high - low).truncatingRemainder(dividingBy: step))
        case let .int(low, high, log, step):
            let x = log ? exp(t) : t
            let snapped = ((x - Double(low)) / Double(step)).rounded() * Double(step) + Double(low)
            return min(max(snapped, Double(low)), Double(high - (high - low) % step))
        }
    }

    /// `x` to six significant digits: a sampled number as short config text, closer to it than
    /// any training could tell.
    static func significant(_ x: Double) -> Double { Double(String(format: "%.6g", x)) ?? x }

    /// A value drawn uniformly (Optuna's `RandomSampler`): a choice index, or a point of the
    /// transformed axis mapped back.
    func random(_ rng: inout RandomGenerator) -> Double {
        if case .choice(let values) = self { return Double(rng.below(values.count)) }
        let (low, high) = transformedBounds
        return untransform(low + (high - low) * rng.uniform())
    }
}
