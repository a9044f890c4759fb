import ArgumentParser
import AutoGLM
import Foundation

/// `autoglm search`: search a config's keys for the best trials, and show a study.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search config keys and component parameters for the best val loss (or the best trade-offs).",
        discussion: "`autoglm search --config base.yaml --space space.yaml --trials 40` runs trials as `autoglm train` "
            + "processes and keeps them in a study (SQLite); running the same command again continues it. "
            + "`autoglm search show STUDY` prints the best trial or the Pareto front.",
        subcommands: [RunSearch.self, ShowStudy.self],
        defaultSubcommand: RunSearch.self)
}

extension SamplerKind: ExpressibleByArgument {}
extension PrunerKind: ExpressibleByArgument {}

/// `autoglm search [run]`.
struct RunSearch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run (or continue) a search: trials until the study has --trials of them.")

    @OptionGroup var plugins: PluginOptions
    @OptionGroup var config: ConfigOptions

    @Option(help: ArgumentHelp("The search space: config keys with distributions (choice, uniform, loguniform, int) or auto.", valueName: "FILE"))
    var space: String

    @Option(help: "Trials the study is to have (a rerun continues up to this many).")
    var trials = 40

    @Option(help: "Trials run at once (each gets cores/jobs threads).")
    var jobs = 1

    @Option(help: ArgumentHelp("The study database (SQLite); trial run directories go next to it, in STEM-trials/.", valueName: "FILE"))
    var study = "runs/search.db"

    @Option(help: "Seed of every proposal (the same command and seed propose the same trials, with one job).")
    var seed: UInt64 = 0

    @Option(name: .customLong("objective"), help: ArgumentHelp("What to optimise: val/loss (or val/METRIC), tokens_per_s, params, peak_rss_mb, with :min or :max where not obvious; repeat for several.", valueName: "NAME[:min|max]"))
    var objectives: [String] = []

    @Option(help: "random, tpe (one objective) or nsga2 (several); default: tpe for one objective, nsga2 for several.")
    var sampler: SamplerKind?

    @Option(help: "none, median or asha (asynchronous successive halving); prunes from the evaluations (train.eval_interval).")
    var pruner: PrunerKind = .none

    @Option(name: .customLong("min-resource"), help: "asha: the first rung in steps (default: auto, 1/100 of a complete trial's steps).")
    var minResource: Int?

    @Option(name: .customLong("reduction-factor"), help: "asha: η, about 1/η of a rung's trials go on.")
    var reductionFactor = 4

    @Option(help: "nsga2: complete trials per generation.")
    var population = 10

    @Option(help: ArgumentHelp("The autoglm executable the trials run (default: this one).", valueName: "PATH"))
    var executable: String?

    func validate() throws {
        guard trials >= 1 else { throw ValidationError("--trials must be at least 1") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard reductionFactor >= 2 else { throw ValidationError("--reduction-factor must be at least 2") }
        if let minResource, minResource < 1 { throw ValidationError("--min-resource must be at least 1") }
    }

    func run() throws {
        var request = SearchRequest(spaceFile: space, studyPath: study)
        request.configFile = config.file
        request.overrides = config.overrides
        request.pluginDirectories = plugins.directories
        if !objectives.isEmpty { request.objectives = objectives }
        request.sampler = sampler
        request.pruner = StudySettings.PrunerSettings(kind: pruner, minResource: minResource, reductionFactor: reductionFactor)
        request.population = population
        request.seed = seed
        let study = try request.open()
        var options = SearchRunner.Options()
        if let executable { options.executable = executable }
        options.trials = trials
        options.jobs = jobs
        let runner = SearchRunner(study: study, options: options) { printLine($0) }
        let s = study.settings
        printLine("study \(self.study): \(s.objectives.map(\.description).joined(separator: ", ")), sampler \(s.sampler.rawValue), "
              + "pruner \(s.pruner.kind.rawValue), seed \(s.seed); \(trials) trials, \(jobs) at a time on "
              + "\(runner.threadsPerTrial) thread(s) each; runs in \(StudyText.displayPath(study.trialsDirectory))")
        for line in study.space.summary { printLine("  " + line) }
        for line in study.space.skipped { printLine("  not searched: " + line) }
        let summary = try runner.run()
        printLine("this run: \(summary.complete) complete, \(summary.pruned) pruned, \(summary.failed) failed")
        if summary.interrupted { throw ExitCode(130) }
        let snapshot = try StudySnapshot(path: self.study)
        StudyText.headline(snapshot).forEach { printLine($0) }
    }
}

/// `autoglm search show STUDY`.
struct ShowStudy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print a study: the best trial (or the Pareto front and its hypervolume) and every trial.")

    @Argument(help: "The study file.")
    var study: String

    @Option(help: ArgumentHelp("Hypervolume reference point in objective units, one value per objective (default: each objective's worst value plus a tenth of its range).", valueName: "V1,V2,…"))
    var reference: String?

    @Flag(help: "Also draw the objective against the trial number and, for two objectives, the Pareto front (SVG and PNG).")
    var plot = false

    @Option(help: ArgumentHelp("With --plot: output path without extension (writes PREFIX-objectives.* and PREFIX-pareto.*).", valueName: "PREFIX"))
    var out: String?

    func run() throws {
        let snapshot = try StudySnapshot(path: study)
        var referencePoint: [Double]?
        if let reference {
            let values = reference.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard values.count == snapshot.settings.objectives.count else {
                throw ValidationError("--reference needs \(snapshot.settings.objectives.count) numbers (one per objective), got '\(reference)'")
            }
            referencePoint = values
        }
        StudyText.headline(snapshot, reference: referencePoint).forEach { print($0) }
        print("")
        let (header, rows) = StudyText.table(snapshot)
        print(Table.render(header: header, rows: rows))
        let importances = StudyText.importances(snapshot)
        if !importances.isEmpty { print(""); importances.forEach { print($0) } }
        guard plot else { return }
        let prefix = out ?? (study as NSString).deletingPathExtension
        for (name, chart) in try StudyCharts.make(snapshot) {
            for format in CairoChartRenderer.Format.allCases {
                let path = "\(prefix)-\(name).\(format.rawValue)"
                try CairoChartRenderer.write(chart, format: format, to: path)
                print(path)
            }
        }
    }
}

/// Writes a line to standard output unbuffered, so that lines from the search's job threads and
/// its own stay in order when the output is a file or a pipe.
private func printLine(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
