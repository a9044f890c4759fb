import Foundation

/// The standard normal truncated to [a, b] (in standard units), as TPE's kernels need it:
/// log probability mass of an interval, quantiles and log density, accurate in both tails.
/// Follows `optuna/samplers/_tpe/_truncnorm.py` (itself after SciPy's `truncnorm`): the mass is
/// computed in the left tail, where Φ is accurate, using the symmetry for the right tail; the
/// quantile inverts log Φ by bisection.
enum TruncatedNormal {
    /// log √(2π).
    static let logRootTwoPi = 0.5 * log(2 * Double.pi)

    /// Φ(a), the standard normal CDF, through erfc (accurate far into the left tail).
    static func cdf(_ a: Double) -> Double { 0.5 * erfc(-a / 2.0.squareRoot()) }

    /// log Φ(a): direct for moderate a, −Φ(−a) for large a (log(1 − ε) ≈ −ε), and the
    /// asymptotic series of the Mills ratio below −20, where Φ underflows.
    static func logCDF(_ a: Double) -> Double {
        if a > 6 { return -cdf(-a) }
        if a > -20 { return log(cdf(a)) }
        let logLeft = -0.5 * a * a - log(-a) - logRootTwoPi
        var total = 1.0, last = 0.0, numerator = 1.0, denominator = 1.0, sign = 1.0, i = 0.0
        while abs(last - total) > Double.ulpOfOne {
            i += 1
            last = total
            sign = -sign
            denominator *= 1 / (a * a)
            numerator *= 2 * i - 1
            total += sign * numerator * denominator
        }
        return logLeft + log(total)
    }

    /// log(exp(p) − exp(q)) for p ≥ q.
    private static func logDifference(_ p: Double, _ q: Double) -> Double { p + log1p(-exp(q - p)) }

    /// log(Φ(b) − Φ(a)) for a ≤ b: in the left tail when b ≤ 0, mirrored when a > 0, and as
    /// log1p(−Φ(a) − Φ(−b)) across 0 (no cancellation near a mass of 1).
    static func logMass(_ a: Double, _ b: Double) -> Double {
        if b <= 0 { return logDifference(logCDF(b), logCDF(a)) }
        if a > 0 { return logDifference(logCDF(-a), logCDF(-b)) }
        return log1p(-cdf(a) - cdf(-b))
    }

    /// The q-quantile (0 ≤ q ≤ 1) of the standard normal truncated to [a, b] (a < b): solves
    /// log Φ(x) = log(Φ(a) + q·(Φ(b) − Φ(a))) by bisection, mirrored for a ≥ 0 so that the
    /// tail it works in is the accurate one.
    static func quantile(_ q: Double, a: Double, b: Double) -> Double {
        if q <= 0 { return a }
        if q >= 1 { return b }
        func logSum(_ p: Double, _ r: Double) -> Double { max(p, r) + log1p(exp(-abs(p - r))) }
        if a < 0 {
            return inverseLogCDF(logSum(logCDF(a), log(q) + logMass(a, b)))
        }
        return -inverseLogCDF(logSum(logCDF(-b), log1p(-q) + logMass(a, b)))
    }

    /// x with log Φ(x) = y, by 100 bisection steps on [−100, 100] (Optuna's `_ndtri_exp`).
    private static func inverseLogCDF(_ y: Double) -> Double {
        var lo = -100.0, hi = 100.0, mid = 0.0
        for _ in 0..<100 {
            mid = (lo + hi) / 2
            if logCDF(mid) < y { lo = mid } else { hi = mid }
        }
        return mid
    }

    /// A sample of N(mu, sigma²) truncated to [low, high], from a uniform draw `u` in [0, 1).
    static func sample(mu: Double, sigma: Double, low: Double, high: Double, uniform u: Double) -> Double {
        let a = (low - mu) / sigma, b = (high - mu) / sigma
        return min(max(quantile(u, a: a, b: b) * sigma + mu, low), high)
    }

    /// log density at x of N(mu, sigma²) truncated to [low, high] (−∞ outside).
    static func logDensity(_ x: Double, mu: Double, sigma: Double, low: Double, high: Double) -> Double {
        guard x >= low, x <= high else { return -.infinity }
        let z = (x - mu) / sigma
        return -z * z / 2 - logRootTwoPi - logMass((low - mu) / sigma, (high - mu) / sigma) - log(sigma)
    }

    /// log of the probability N(mu, sigma²) truncated to [low, high] gives the interval [x0, x1].
    static func logIntervalMass(_ x0: Double, _ x1: Double, mu: Double, sigma: Double, low: Double, high: Double) -> Double {
        logMass((max(x0, low) - mu) / sigma, (min(x1, high) - mu) / sigma)
            - logMass((low - mu) / sigma, (high - mu) / sigma)
    }
}
