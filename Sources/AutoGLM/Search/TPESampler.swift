import AutoGLMCore
import Foundation

/// The tree-structured Parzen estimator for one objective, univariate, with Optuna's defaults
/// (`optuna/samplers/_tpe/sampler.py`, `TPESampler()`): the first `startupTrials` (10) trials are
/// random; after that the finished trials are split into the best gamma(n) = min(⌈0.1·n⌉, 25)
/// ("below") and the rest ("above") — complete trials by value first, then pruned trials by
/// (−last step, last value) as `_split_trials` does — and each active parameter is drawn as the
/// best of `candidates` (24) draws from l(x), the estimator of its values in the below trials,
/// by log l(x) − log g(x), g being the estimator of the above trials. A parameter only some
/// trials have (a component's, under a searched choice) is estimated from the trials that have it.
///
/// Bergstra, Bardenet, Bengio and Kégl, "Algorithms for Hyper-Parameter Optimization", NIPS 2011.
public struct TPESampler: SearchSampler {
    /// The study's seed.
    public let seed: UInt64
    /// Whether the objective is minimised or maximised.
    public let direction: ObjectiveDirection
    /// Random trials before TPE starts (Optuna's `n_startup_trials`).
    public var startupTrials = 10
    /// Candidates drawn from l(x) per parameter (Optuna's `n_ei_candidates`).
    public var candidates = 24

    /// A TPE sampler with Optuna's defaults.
    public init(seed: UInt64, direction: ObjectiveDirection) {
        self.seed = seed
        self.direction = direction
    }

    /// Optuna's `default_gamma`: how many finished trials form the "below" (good) group.
    public static func gamma(_ n: Int) -> Int { min(Int((0.1 * Double(n)).rounded(.up)), 25) }

    /// The parameters of trial `number`.
    public func propose(number: Int, space: SearchSpace, history: [TrialRecord]) -> Proposal {
        var rng = TrialRandom.generator(seed: seed, trial: number)
        let finished = history.filter { $0.state == .complete || $0.state == .pruned }.sorted { $0.number < $1.number }
        guard finished.count >= startupTrials else {
            return Proposal(parameters: space.assign { p, _ in p.distribution.random(&rng) }, generation: nil)
        }
        let (below, above) = split(finished, below: Self.gamma(finished.count))
        let parameters = space.assign { p, _ in
            let l = ParzenEstimator(observations: below.compactMap { $0.parameters[p.name] }, distribution: p.distribution)
            let g = ParzenEstimator(observations: above.compactMap { $0.parameters[p.name] }, distribution: p.distribution)
            var best = l.sample(&rng), bestScore = l.logDensity(best) - g.logDensity(best)
            for _ in 1..<candidates {
                let x = l.sample(&rng), score = l.logDensity(x) - g.logDensity(x)
                if score > bestScore { best = x; bestScore = score }
            }
            return best
        }
        return Proposal(parameters: parameters, generation: nil)
    }

    /// The best `count` finished trials and the others, each in trial order (Optuna's
    /// `_split_trials` without constraints).
    func split(_ trials: [TrialRecord], below count: Int) -> (below: [TrialRecord], above: [TrialRecord]) {
        let complete = trials.filter { $0.state == .complete }.sorted { a, b in
            (loss(a.values?.first), a.number) < (loss(b.values?.first), b.number)
        }
        let pruned = trials.filter { $0.state == .pruned }.sorted { a, b in
            let (x, y) = (prunedScore(a), prunedScore(b))
            return (x.0, x.1, a.number) < (y.0, y.1, b.number)
        }
        let fromComplete = min(count, complete.count), fromPruned = min(count - fromComplete, pruned.count)
        let below = complete.prefix(fromComplete) + pruned.prefix(fromPruned)
        let above = complete.dropFirst(fromComplete) + pruned.dropFirst(fromPruned)
        return (below.sorted { $0.number < $1.number }, above.sorted { $0.number < $1.number })
    }

    /// A complete trial's value in the minimisation convention (a missing one is worst).
    private func loss(_ value: Double?) -> Double {
        guard let value, !value.isNaN else { return .infinity }
        return direction == .minimize ? value : -value
    }

    /// A pruned trial's rank key: later steps first, then the better last value (Optuna's
    /// `_get_pruned_trial_score`); a trial with no report ranks last.
    private func prunedScore(_ trial: TrialRecord) -> (Double, Double) {
        guard let (step, value) = trial.lastIntermediate else { return (1, 0) }
        return (-Double(step), value.isNaN ? .infinity : loss(value))
    }
}
