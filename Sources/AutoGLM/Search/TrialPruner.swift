import Foundation

/// What a pruner decides after a trial reports an intermediate value.
public struct PruneDecision: Sendable, Equatable {
    /// Whether to stop the trial now.
    public var prune: Bool
    /// Successive-halving rungs the trial completed with this report (rung → value), to record.
    public var completedRungs: [Int: Double] = [:]

    /// A decision.
    public init(prune: Bool, completedRungs: [Int: Double] = [:]) {
        self.prune = prune
        self.completedRungs = completedRungs
    }
}

/// Decides whether a running trial should stop, from its intermediate values (the first
/// objective's, reported at each evaluation) and the study's other trials. Like Optuna, pruning
/// serves one objective.
public protocol TrialPruner: Sendable {
    /// The decision after `trial`'s latest report, given every other trial of the study.
    func decide(_ trial: TrialRecord, others: [TrialRecord], direction: ObjectiveDirection) -> PruneDecision
}

/// The pruners `autoglm search --pruner` offers.
public enum PrunerKind: String, Sendable, Codable, CaseIterable {
    /// Never prune.
    case none
    /// Optuna's `MedianPruner`.
    case median
    /// Asynchronous successive halving (Optuna's `SuccessiveHalvingPruner`).
    case asha
}

/// Optuna's `MedianPruner` (`PercentilePruner(50)`, `optuna/pruners/_percentile.py`): once
/// `startupTrials` trials are complete and past `warmupSteps`, a trial is pruned when its best
/// intermediate value so far is worse than the median of the complete trials' values at the
/// same step (when at least `minTrials` of them reported that step). Checked at every report.
public struct MedianPruner: TrialPruner {
    /// Complete trials needed before pruning starts (Optuna: 5).
    public var startupTrials = 5
    /// Steps before which no trial is pruned (Optuna: 0).
    public var warmupSteps = 0
    /// Complete trials that must have reported the step (Optuna: 1).
    public var minTrials = 1

    /// A median pruner with Optuna's defaults.
    public init() {}

    /// Prune when the trial's best so far is worse than the median at its latest step.
    public func decide(_ trial: TrialRecord, others: [TrialRecord], direction: ObjectiveDirection) -> PruneDecision {
        let complete = others.filter { $0.state == .complete }
        guard !complete.isEmpty, complete.count >= startupTrials, let (step, _) = trial.lastIntermediate,
              step >= warmupSteps else { return PruneDecision(prune: false) }
        let reported = trial.intermediate.values.filter { !$0.isNaN }
        guard let best = direction == .minimize ? reported.min() : reported.max() else { return PruneDecision(prune: true) }
        let atStep = complete.compactMap { $0.intermediate[step] }.filter { !$0.isNaN }
        guard atStep.count >= minTrials, !atStep.isEmpty else { return PruneDecision(prune: false) }
        let median = Self.percentile(atStep, 50)
        return PruneDecision(prune: direction == .minimize ? best > median : best < median)
    }

    /// The q-th percentile with linear interpolation between order statistics (NumPy's default).
    static func percentile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        let position = q / 100 * Double(sorted.count - 1)
        let i = Int(position.rounded(.down)), fraction = position - Double(i)
        return i + 1 < sorted.count ? sorted[i] + (sorted[i + 1] - sorted[i]) * fraction : sorted[i]
    }
}

/// Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter
/// Tuning", MLSys 2020), as Optuna's `SuccessiveHalvingPruner` (`optuna/pruners/
/// _successive_halving.py`): rung k completes at step min_resource · η^(s + k) (s: the minimum
/// early-stopping rate). A trial reporting at or past its next rung's step records its value for
/// that rung and is promoted only if the value is within the best 1/η of all values recorded for
/// the rung (the best one while fewer than η have been); otherwise it is pruned. One report may
/// complete several rungs.
public struct SuccessiveHalvingPruner: TrialPruner {
    /// The first rung's resource in steps; nil: Optuna's "auto", max(last step of the complete
    /// trials / 100, 1), and no pruning until a trial is complete.
    public var minResource: Int?
    /// η: about 1/η of a rung's trials are promoted (Optuna: 4).
    public var reductionFactor = 4
    /// s: the first rung is at min_resource · η^s (Optuna: 0).
    public var minEarlyStoppingRate = 0
    /// Trials that must have completed a rung before any is promoted from it (Optuna: 0).
    public var bootstrapCount = 0

    /// A successive-halving pruner.
    public init(minResource: Int? = nil, reductionFactor: Int = 4) {
        self.minResource = minResource
        self.reductionFactor = reductionFactor
    }

    /// The step at which rung `rung` completes, for a first rung at `minResource`.
    public func promotionStep(rung: Int, minResource: Int) -> Int {
        minResource * Int(pow(Double(reductionFactor), Double(minEarlyStoppingRate + rung)))
    }

    /// Records the rungs the latest report completes and prunes at the first one the trial
    /// does not win.
    public func decide(_ trial: TrialRecord, others: [TrialRecord], direction: ObjectiveDirection) -> PruneDecision {
        guard let (step, value) = trial.lastIntermediate else { return PruneDecision(prune: false) }
        let resource: Int
        if let minResource {
            resource = minResource
        } else {
            let lastSteps = others.filter { $0.state == .complete }.compactMap { $0.lastIntermediate?.step }
            guard let longest = lastSteps.max() else { return PruneDecision(prune: false) }
            resource = max(longest / 100, 1)
        }
        var decision = PruneDecision(prune: false)
        var rung = 0
        while trial.rungs[rung] != nil { rung += 1 }
        while step >= promotionStep(rung: rung, minResource: resource) {
            if value.isNaN { decision.prune = true; return decision }
            decision.completedRungs[rung] = value
            var competing = others.compactMap { $0.rungs[rung] }
            competing.append(value)
            if competing.count <= bootstrapCount || !promotable(value, competing, direction) {
                decision.prune = true
                return decision
            }
            rung += 1
        }
        return decision
    }

    /// Whether `value` is within the best 1/η of `competing` (which includes it).
    private func promotable(_ value: Double, _ competing: [Double], _ direction: ObjectiveDirection) -> Bool {
        let index = max(competing.count / reductionFactor - 1, 0)
        let sorted = competing.sorted()
        return direction == .minimize ? value <= sorted[index] : value >= sorted[sorted.count - 1 - index]
    }
}
