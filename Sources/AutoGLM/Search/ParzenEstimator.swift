import AutoGLMCore
import Foundation

/// The Parzen estimator of one parameter from a set of observations: a mixture of one kernel
/// per observation plus a prior kernel, as Optuna's univariate TPE builds it
/// (`optuna/samplers/_tpe/parzen_estimator.py`, defaults: prior weight 1, magic clip on,
/// endpoints not considered). Numeric kernels are normals truncated to the parameter's
/// transformed bounds (log axis for log scales), discretised on a step grid; categorical kernels
/// put weight 1 on the observed choice over a uniform floor of prior_weight / kernels.
struct ParzenEstimator {
    /// Kernel weights (observations', then the prior's), summing to 1.
    let weights: [Double]
    /// The distribution estimated.
    let distribution: SearchDistribution
    /// Numeric kernels: centres and widths on the transformed axis.
    private let mus: [Double], sigmas: [Double]
    /// Categorical kernels: one probability row per kernel.
    private let categorical: [[Double]]

    /// The estimator of `observations` (internal values, in trial order) of `distribution`;
    /// `weights` are the observations' (Optuna's `default_weights`), the prior's is appended.
    init(observations: [Double], distribution: SearchDistribution, priorWeight: Double = 1) {
        self.distribution = distribution
        let w = observations.isEmpty ? [1.0] : Self.defaultWeights(observations.count) + [priorWeight]
        let total = w.reduce(0, +)
        weights = w.map { $0 / total }
        if case .choice(let values) = distribution {
            let kernels = observations.count + 1
            var rows = [[Double]](repeating: [Double](repeating: priorWeight / Double(kernels), count: values.count),
                                  count: observations.isEmpty ? 1 : kernels)
            for (k, x) in observations.enumerated() { rows[k][Int(x)] += 1 }
            categorical = rows.map { row in let s = row.reduce(0, +); return row.map { $0 / s } }
            mus = []; sigmas = []
            return
        }
        categorical = []
        let (low, high) = distribution.transformedBounds
        let centres = observations.map(distribution.transform)
        var widths = Self.neighbourWidths(centres, low: low, high: high)
        // Magic clip: no kernel narrower than the range over min(100, 1 + kernels).
        let minSigma = (high - low) / min(100, 1 + Double(centres.count + 1)), maxSigma = high - low
        widths = widths.map { min(max($0, minSigma), maxSigma) }
        mus = centres + [0.5 * (low + high)]
        sigmas = widths + [high - low]
    }

    /// Optuna's `default_weights(n)`: 1 for the latest 25 observations, a linear ramp from 1/n
    /// for older ones.
    static func defaultWeights(_ n: Int) -> [Double] {
        guard n >= 25 else { return [Double](repeating: 1, count: n) }
        let ramp = n - 25
        let start = 1 / Double(n)
        let rampValues = (0..<ramp).map { i in ramp == 1 ? start : start + (1 - start) * Double(i) / Double(ramp - 1) }
        return rampValues + [Double](repeating: 1, count: 25)
    }

    /// Each centre's width: the larger gap to its neighbours among the centres, the prior's
    /// centre (the middle) and the two bounds; the lowest and highest centre use their inner gap
    /// only (endpoints not considered).
    private static func neighbourWidths(_ centres: [Double], low: Double, high: Double) -> [Double] {
        let withPrior = centres + [0.5 * (low + high)]
        let order = withPrior.indices.sorted { (withPrior[$0], $0) < (withPrior[$1], $1) }
        let sorted: [Double] = [low] + order.map { withPrior[$0] } + [high]
        var sortedWidths: [Double] = (1..<(sorted.count - 1)).map { i -> Double in
            let left: Double = sorted[i] - sorted[i - 1], right: Double = sorted[i + 1] - sorted[i]
            return max(left, right)
        }
        if sorted.count >= 4 {
            sortedWidths[0] = sorted[2] - sorted[1]
            sortedWidths[sortedWidths.count - 1] = sorted[sorted.count - 2] - sorted[sorted.count - 3]
        }
        var widths = [Double](repeating: 0, count: withPrior.count)
        for (rank, index) in order.enumerated() { widths[index] = sortedWidths[rank] }
        return Array(widths.prefix(centres.count))
    }

    /// A draw: a kernel by weight, then a value from it (an internal value).
    func sample(_ rng: inout RandomGenerator) -> Double {
        let k = Self.pick(weights, rng.uniform())
        if !categorical.isEmpty { return Double(Self.pick(categorical[k], rng.uniform())) }
        let (low, high) = distribution.transformedBounds
        let t = TruncatedNormal.sample(mu: mus[k], sigma: sigmas[k], low: low, high: high, uniform: rng.uniform())
        return distribution.untransform(t)
    }

    /// log density (log probability for a grid or a choice) of an internal value under the
    /// mixture, on the transformed axis (the log axis's Jacobian is the same for both of TPE's
    /// estimators, so their ratio does not need it).
    func logDensity(_ x: Double) -> Double {
        var terms: [Double] = []
        if !categorical.isEmpty {
            terms = zip(weights, categorical).map { log($0) + log($1[Int(x)]) }
        } else {
            let (low, high) = distribution.transformedBounds
            let t = distribution.transform(x)
            terms = weights.indices.map { k in
                let kernel: Double
                if let step = distribution.transformedStep {
                    kernel = TruncatedNormal.logIntervalMass(t - step / 2, t + step / 2, mu: mus[k], sigma: sigmas[k],
                                                             low: low, high: high)
                } else {
                    kernel = TruncatedNormal.logDensity(t, mu: mus[k], sigma: sigmas[k], low: low, high: high)
                }
                return log(weights[k]) + kernel
            }
        }
        let top = terms.max() ?? -.infinity
        guard top.isFinite else { return top }
        return top + log(terms.reduce(0) { $0 + exp($1 - top) })
    }

    /// The index whose cumulative probability first exceeds `u`.
    private static func pick(_ probabilities: [Double], _ u: Double) -> Int {
        var cumulative = 0.0
        for (i, p) in probabilities.enumerated() {
            cumulative += p
            if u < cumulative { return i }
        }
        return probabilities.count - 1
    }
}
