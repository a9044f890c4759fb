import Foundation

/// The range and tick marks of one chart axis. Linear axes use Heckbert's "nice numbers"
/// (Graphics Gems, 1990): the tick step is the nice number nearest range / (count - 1), 1, 2 or
/// 5 × 10^k, and the range is widened to whole steps. Logarithmic axes keep the data's range and put ticks at 1, 2, 5 × 10^k (every decade
/// only, when the range spans many).
public struct AxisTicks: Sendable, Equatable {
    /// Lower end of the axis.
    public var lower: Double
    /// Upper end of the axis.
    public var upper: Double
    /// Tick positions, ascending, within [lower, upper].
    public var values: [Double]
    /// The text of each tick.
    public var labels: [String]
    /// Whether the axis is logarithmic.
    public var logarithmic: Bool

    /// The nice number nearest `x` (> 0): 1, 2, 5 or 10 × 10^k, rounding at 1.5, 3 and 7.
    public static func niceNumber(_ x: Double) -> Double {
        let power = pow(10, floor(log10(x))), fraction = x / power
        return (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * power
    }

    /// A linear axis covering [min, max] with about `count` ticks. An empty range is widened
    /// around its value.
    public static func linear(min: Double, max: Double, count: Int = 6) -> AxisTicks {
        var lo = min, hi = max
        if !(hi > lo) {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad; hi += pad
        }
        let step = niceNumber((hi - lo) / Double(Swift.max(count - 1, 1)))
        let first = (lo / step).rounded(.down), last = (hi / step).rounded(.up)
        let values = stride(from: first, through: last, by: 1).map { $0 * step }
        let stepExponent = exponent(step)
        return AxisTicks(lower: first * step, upper: last * step, values: values,
                         labels: labels(values, stepExponents: values.map { _ in stepExponent }), logarithmic: false)
    }

    /// A logarithmic axis covering [min, max] (both > 0), padded by `padding` decades.
    public static func logarithmic(min: Double, max: Double, padding: Double = 0.03) -> AxisTicks {
        var lo = log10(min), hi = log10(max)
        if !(hi > lo) { lo -= 0.5; hi += 0.5 }
        let pad = (hi - lo) * padding
        lo -= pad; hi += pad
        let firstDecade = Int(floor(lo)), lastDecade = Int(ceil(hi))
        let spans = hi - lo
        let mantissas: [Double] = spans > 4 ? [1] : spans > 1.5 ? [1, 2, 5] : [1, 2, 3, 4, 5, 6, 7, 8, 9]
        var values: [Double] = []
        for decade in firstDecade...lastDecade {
            if spans > 8 && decade % 2 != 0 { continue }
            for m in mantissas {
                let v = m * pow(10, Double(decade))
                if log10(v) >= lo - 1e-12 && log10(v) <= hi + 1e-12 { values.append(v) }
            }
        }
        let lower = pow(10, lo), upper = pow(10, hi)
        if values.count < 4 {  // well under a decade: linear nice steps, placed logarithmically
            let linear = AxisTicks.linear(min: lower, max: upper)
            let inside = zip(linear.values, linear.labels).filter { $0.0 > 0 && $0.0 >= lower && $0.0 <= upper }
            return AxisTicks(lower: lower, upper: upper, values: inside.map(\.0), labels: inside.map(\.1), logarithmic: true)
        }
        return AxisTicks(lower: lower, upper: upper, values: values,
                         labels: labels(values, stepExponents: values.map(exponent)), logarithmic: true)
    }

    /// The texts of an axis's ticks, where tick i is a multiple of 10^`stepExponents[i]`: plain
    /// decimals with that many digits ("0.25", "1500"), or for the whole axis "2e-4"-style
    /// numbers when its steps are below 10^-3 or its values reach a million.
    static func labels(_ values: [Double], stepExponents: [Int]) -> [String] {
        let magnitudes = values.filter { $0 != 0 }.map(exponent)
        let scientific = (magnitudes.max() ?? 0) >= 6 || (stepExponents.min() ?? 0) <= -4
        return zip(values, stepExponents).map { value, stepExponent in
            guard scientific else { return String(format: "%.\(Swift.max(0, -stepExponent))f", value) }
            if value == 0 { return "0" }
            let e = exponent(value)
            var mantissa = String(format: "%.\(Swift.max(0, e - stepExponent))f", value / pow(10, Double(e)))
            if mantissa.contains(".") {
                while mantissa.hasSuffix("0") { mantissa.removeLast() }
                if mantissa.hasSuffix(".") { mantissa.removeLast() }
            }
            return "\(mantissa)e\(e)"
        }
    }

    /// The decimal exponent of `value` (≠ 0): 1500 → 3, 0.002 → -3.
    private static func exponent(_ value: Double) -> Int { Int(floor(log10(abs(value)) + 1e-9)) }
}
