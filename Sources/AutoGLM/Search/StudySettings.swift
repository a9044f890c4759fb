import Foundation

/// What defines a study, stored in its database when it is created: running the same command
/// again must give the same settings (only the number of trials and jobs may change), so that
/// the trials already run and the ones still to come belong to one search.
public struct StudySettings: Codable, Sendable, Equatable {
    /// Pruner and its settings.
    public struct PrunerSettings: Codable, Sendable, Equatable {
        /// Which pruner.
        public var kind: PrunerKind
        /// Successive halving's first rung in steps (nil: Optuna's "auto").
        public var minResource: Int?
        /// Successive halving's η.
        public var reductionFactor: Int

        /// Pruner settings.
        public init(kind: PrunerKind, minResource: Int? = nil, reductionFactor: Int = 4) {
            self.kind = kind; self.minResource = minResource; self.reductionFactor = reductionFactor
        }

        /// The pruner (nil for none).
        public func make() -> (any TrialPruner)? {
            switch kind {
            case .none: return nil
            case .median: return MedianPruner()
            case .asha: return SuccessiveHalvingPruner(minResource: minResource, reductionFactor: reductionFactor)
            }
        }
    }

    /// The objectives, in order (the first is the one pruning and `best` use).
    public var objectives: [Objective]
    /// The sampler.
    public var sampler: SamplerKind
    /// The pruner.
    public var pruner: PrunerSettings
    /// The seed of every proposal.
    public var seed: UInt64
    /// NSGA-II's population size.
    public var population: Int
    /// The base config file as given, and its text when the study was created.
    public var baseConfig: String?, baseConfigText: String?
    /// `--set` options applied to every trial.
    public var overrides: [String]
    /// The space file as given, and its text.
    public var spaceFile: String, spaceText: String
    /// `--plugins` directories passed to every trial.
    public var pluginDirectories: [String]

    /// Settings.
    public init(objectives: [Objective], sampler: SamplerKind, pruner: PrunerSettings, seed: UInt64, population: Int,
                baseConfig: String?, baseConfigText: String?, overrides: [String], spaceFile: String, spaceText: String,
                pluginDirectories: [String]) {
        self.objectives = objectives; self.sampler = sampler; self.pruner = pruner; self.seed = seed
        self.population = population; self.baseConfig = baseConfig; self.baseConfigText = baseConfigText
        self.overrides = overrides; self.spaceFile = spaceFile; self.spaceText = spaceText
        self.pluginDirectories = pluginDirectories
    }

    /// The first setting in which `other` differs from these, in words (nil: the same study).
    public func difference(from other: StudySettings) -> String? {
        if objectives != other.objectives {
            return "objectives \(other.objectives.map(\.description).joined(separator: ", ")) (the study's: "
                + objectives.map(\.description).joined(separator: ", ") + ")"
        }
        if sampler != other.sampler { return "sampler \(other.sampler.rawValue) (the study's: \(sampler.rawValue))" }
        if pruner != other.pruner { return "pruner \(other.pruner.kind.rawValue) settings (the study's: \(pruner.kind.rawValue))" }
        if seed != other.seed { return "seed \(other.seed) (the study's: \(seed))" }
        if population != other.population { return "population \(other.population) (the study's: \(population))" }
        if baseConfigText != other.baseConfigText { return "base config \(other.baseConfig ?? "none") (its text is not the study's)" }
        if overrides != other.overrides { return "--set options \(other.overrides) (the study's: \(overrides))" }
        if spaceText != other.spaceText { return "space file \(other.spaceFile) (its text is not the study's)" }
        if pluginDirectories != other.pluginDirectories { return "--plugins \(other.pluginDirectories) (the study's: \(pluginDirectories))" }
        return nil
    }
}
