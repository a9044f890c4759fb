import Foundation

/// What a sampler proposes for a new trial.
public struct Proposal: Sendable, Equatable {
    /// Internal values of the active parameters, by parameter name.
    public var parameters: [String: Double]
    /// NSGA-II's generation of the trial (nil for other samplers).
    public var generation: Int?
}

/// Proposes the parameters of trial `number` from the study's history. A proposal depends only
/// on the study's seed, the trial's number and the history it is given, so that the same
/// command and seed propose the same trials (with one job; with several, the history at each
/// proposal depends on which trials finished first).
public protocol SearchSampler: Sendable {
    /// The parameters of trial `number` of `space`, given every trial proposed before it.
    func propose(number: Int, space: SearchSpace, history: [TrialRecord]) -> Proposal
}

/// The samplers `autoglm search --sampler` offers.
public enum SamplerKind: String, Sendable, Codable, CaseIterable {
    /// Uniform sampling of every parameter (any number of objectives).
    case random
    /// Tree-structured Parzen estimator (one objective).
    case tpe
    /// NSGA-II (several objectives).
    case nsga2

    /// The sampler for `objectives` when none is named: TPE for one, NSGA-II for several.
    public static func automatic(objectives: Int) -> SamplerKind { objectives > 1 ? .nsga2 : .tpe }

    /// The sampler, or a `ConfigError` when it cannot serve that many objectives.
    public func make(objectives: [Objective], seed: UInt64, population: Int) throws -> any SearchSampler {
        switch self {
        case .random:
            return RandomSampler(seed: seed)
        case .tpe:
            guard objectives.count == 1 else {
                throw ConfigError(origin: "--sampler tpe", message: "TPE optimises one objective, and \(objectives.count) are given "
                                  + "(\(objectives.map(\.name).joined(separator: ", "))); use --sampler nsga2 or random")
            }
            return TPESampler(seed: seed, direction: objectives[0].direction)
        case .nsga2:
            return NSGA2Sampler(seed: seed, objectives: objectives, populationSize: population)
        }
    }
}

/// Uniform sampling of every active parameter (Optuna's `RandomSampler`).
public struct RandomSampler: SearchSampler {
    /// The study's seed.
    public let seed: UInt64

    /// A random sampler.
    public init(seed: UInt64) { self.seed = seed }

    /// Every active parameter drawn uniformly (on the log axis for log scales).
    public func propose(number: Int, space: SearchSpace, history: [TrialRecord]) -> Proposal {
        var rng = TrialRandom.generator(seed: seed, trial: number)
        return Proposal(parameters: space.assign { p, _ in p.distribution.random(&rng) }, generation: nil)
    }
}
