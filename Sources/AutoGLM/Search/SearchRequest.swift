import Foundation

/// Everything `autoglm search` is asked, turned into a study: the base config resolved and
/// validated (with the plugins it and the space need), the space checked against it, the
/// objectives, sampler and pruner, and the study file opened or created.
public struct SearchRequest: Sendable {
    /// The base config file (nil: defaults).
    public var configFile: String?
    /// `--set` options for every trial.
    public var overrides: [String] = []
    /// The process environment (its `AUTOGLM_*` variables are a config layer, as for train).
    public var environment: [String: String] = ProcessInfo.processInfo.environment
    /// `--plugins` directories.
    public var pluginDirectories: [String] = []
    /// The space file.
    public var spaceFile: String
    /// The study file.
    public var studyPath: String
    /// `--objective` values (`val/loss`, `tokens_per_s:max`, …).
    public var objectives: [String] = ["val/loss"]
    /// The sampler (nil: TPE for one objective, NSGA-II for several).
    public var sampler: SamplerKind?
    /// The pruner.
    public var pruner = StudySettings.PrunerSettings(kind: .none)
    /// NSGA-II's population.
    public var population = 10
    /// The seed.
    public var seed: UInt64 = 0

    /// A request for `spaceFile` and `studyPath`.
    public init(spaceFile: String, studyPath: String) {
        self.spaceFile = spaceFile
        self.studyPath = studyPath
    }

    /// Resolves the base config, checks the space and opens the study.
    /// - Throws: `ConfigError` for a bad base config, space, objective or setting (naming the
    ///   file, line and key), or a study file made by another command.
    public func open() throws -> Study {
        let objectives = try self.objectives.map(Objective.parse)
        guard !objectives.isEmpty else { throw ConfigError(origin: "--objective", message: "name at least one objective") }
        if let twice = Dictionary(grouping: objectives, by: \.name).first(where: { $0.value.count > 1 })?.key {
            throw ConfigError(origin: "--objective \(twice)", message: "the objective is given twice")
        }
        if pruner.kind != .none {
            guard objectives.count == 1 else {
                throw ConfigError(origin: "--pruner \(pruner.kind.rawValue)", message: "pruning serves one objective (as in Optuna), "
                                  + "and \(objectives.count) are given; drop --pruner or keep one objective")
            }
            guard objectives[0].isEvaluationMetric else {
                throw ConfigError(origin: "--pruner \(pruner.kind.rawValue)", message: "\(objectives[0].name) is only known when a "
                                  + "trial ends; pruning needs an evaluation metric such as val/loss")
            }
        }
        let kind = sampler ?? SamplerKind.automatic(objectives: objectives.count)
        if kind == .nsga2, population < 2 {
            throw ConfigError(origin: "--population \(population)", message: "an NSGA-II population needs at least 2 members")
        }
        var options = SessionOptions()
        options.configFile = configFile
        options.overrides = overrides
        options.environment = environment
        options.pluginDirectories = pluginDirectories
        let (resolved, registry) = try options.resolve()
        let file = try SearchSpaceFile.load(path: spaceFile)
        let space = try SearchSpaceBuilder(file: file, base: resolved.config, schemas: registry).build()
        let baseText = try configFile.map { path -> String in
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigError(origin: path, message: "cannot read the config file")
            }
            return text
        }
        let settings = StudySettings(
            objectives: objectives, sampler: kind, pruner: pruner, seed: seed, population: population,
            baseConfig: configFile, baseConfigText: baseText, overrides: overrides, spaceFile: spaceFile,
            spaceText: (try? String(contentsOfFile: spaceFile, encoding: .utf8)) ?? "", pluginDirectories: pluginDirectories)
        let directory = URL(fileURLWithPath: studyPath).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try Study(path: studyPath, settings: settings, space: space)
    }
}
