import Foundation

/// The text of `autoglm search show` (and of the end of a search): the study's counts, the best
/// trial or the Pareto front with its hypervolume, the table of trials, and rough parameter
/// importances.
public enum StudyText {
    /// Counts, then the best trial (one objective) or the Pareto front and its hypervolume.
    public static func headline(_ study: StudySnapshot, reference: [Double]? = nil) -> [String] {
        let s = study.settings
        let counts = TrialState.allCases.compactMap { state -> String? in
            let n = study.trials.filter { $0.record.state == state }.count
            return n > 0 ? "\(n) \(state.rawValue)" : nil
        }
        var lines = ["study \(study.path): \(study.trials.count) trials (\(counts.joined(separator: ", "))); "
                     + "\(s.objectives.map(\.description).joined(separator: ", ")), sampler \(s.sampler.rawValue), seed \(s.seed)"]
        if s.objectives.count == 1 {
            guard let best = study.best else { return lines + ["no complete trial yet"] }
            lines.append("best: trial \(best.record.number), \(values(best, s)) — \(parameters(best))")
            lines.append("  run directory: \(displayPath(best.runDirectory))")
            return lines
        }
        let front = study.paretoFront
        guard !front.isEmpty, let r = reference ?? study.defaultReference else { return lines + ["no complete trial yet"] }
        let referenceText = zip(s.objectives, r).map { "\($0.name) \(SearchRunner.format($1))" }.joined(separator: ", ")
        lines.append("Pareto front: \(front.count) of \(study.complete.count) complete trials; hypervolume "
                     + "\(SearchRunner.format(study.hypervolume(reference: r))) against (\(referenceText))")
        for t in front.sorted(by: { $0.record.values![0] < $1.record.values![0] }) {
            lines.append("  trial \(t.record.number): \(values(t, s)) — \(parameters(t))")
        }
        return lines
    }

    /// Every trial: number, state, objective values, wall and overhead seconds, parameters.
    public static func table(_ study: StudySnapshot) -> (header: [String], rows: [[String]]) {
        let objectives = study.settings.objectives
        let header = ["TRIAL", "STATE"] + objectives.map { $0.name.uppercased() } + ["SECONDS", "OVERHEAD", "PARAMETERS"]
        let rows = study.trials.map { t -> [String] in
            var shown: [String]
            if let v = t.record.values {
                shown = v.map(SearchRunner.format)
            } else if t.record.state == .pruned, let last = t.record.lastIntermediate {
                shown = ["\(SearchRunner.format(last.value)) @\(last.step)"] + Array(repeating: "-", count: objectives.count - 1)
            } else {
                shown = Array(repeating: "-", count: objectives.count)
            }
            let state = t.record.state.rawValue + (t.attempts > 1 ? " (\(t.attempts) runs)" : "")
            return ["\(t.record.number)", state] + shown
                + [t.seconds.map { String(format: "%.1f", $0) } ?? "-", t.overheadSeconds.map { String(format: "%.2f", $0) } ?? "-",
                   parameters(t)]
        }
        return (header, rows)
    }

    /// Each searched parameter's share of the variance of the first objective over the complete
    /// trials, explained by that parameter alone: ε², the correlation ratio η² corrected for the
    /// share that k groups of n noise values would explain by chance (Kelley's epsilon squared,
    /// 1 − (SS_within / (n − k)) / (SS_total / (n − 1)), clipped at 0); choices grouped by value,
    /// numbers in up to five quantile bins. A rough, first-order measure: it ignores interactions,
    /// and a sampler that concentrates its trials biases it. Empty with fewer than eight complete
    /// trials.
    public static func importances(_ study: StudySnapshot) -> [String] {
        let trials = study.complete
        guard trials.count >= 8 else { return [] }
        let y = trials.map { $0.record.values![0] }
        var keys: [String] = []
        for t in trials { for p in t.parameters where !keys.contains(p.key) { keys.append(p.key) } }
        let shares = keys.compactMap { key -> (String, Double)? in
            let pairs = zip(trials, y).compactMap { t, v in t.parameters.first { $0.key == key }.map { ($0.value, v) } }
            return explainedShare(pairs).map { (key, $0) }
        }.sorted { $0.1 > $1.1 }
        guard !shares.isEmpty else { return [] }
        return ["parameter importance for \(study.settings.objectives[0].name) (ε²: the share of its variance each parameter "
                + "explains alone, corrected for chance, over \(trials.count) complete trials; rough: ignores interactions, "
                + "biased by where the sampler looked):"]
            + shares.map { "  \($0.0.padding(toLength: max(24, $0.0.count), withPad: " ", startingAt: 0)) \(String(format: "%.2f", $0.1))" }
    }

    /// ε² of values grouped by parameter text (numbers binned by quantile); nil with fewer than
    /// two groups, fewer than two values per group on average, or no variance.
    static func explainedShare(_ pairs: [(String, Double)]) -> Double? {
        var groups: [[Double]]
        let numbers = pairs.compactMap { Double($0.0) }
        if numbers.count == pairs.count, Set(numbers).count > 5 {
            let sorted = zip(numbers, pairs.map(\.1)).sorted { $0.0 < $1.0 }
            let bins = min(5, max(2, Int(Double(sorted.count).squareRoot())))
            groups = (0..<bins).map { b in
                Array(sorted[(b * sorted.count / bins)..<((b + 1) * sorted.count / bins)].map(\.1))
            }
        } else {
            groups = Array(Dictionary(grouping: pairs, by: \.0).values.map { $0.map(\.1) })
        }
        groups = groups.filter { !$0.isEmpty }
        let n = pairs.count, k = groups.count
        guard k >= 2, n >= 2 * k else { return nil }
        let all = pairs.map(\.1), mean = all.reduce(0, +) / Double(n)
        let total = all.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        guard total > 0 else { return nil }
        let within = groups.reduce(0.0) { sum, g in
            let m = g.reduce(0, +) / Double(g.count)
            return sum + g.reduce(0) { $0 + ($1 - m) * ($1 - m) }
        }
        return max(0, 1 - (within / Double(n - k)) / (total / Double(n - 1)))
    }

    /// `val/loss 1.8342, tokens_per_s 21034`.
    static func values(_ t: StudySnapshot.Trial, _ s: StudySettings) -> String {
        zip(s.objectives, t.record.values ?? []).map { "\($0.name) \(SearchRunner.format($1))" }.joined(separator: ", ")
    }

    /// `path` relative to the current directory when it lies inside it (run directories are
    /// stored absolute, so that any directory can read the study).
    public static func displayPath(_ path: String) -> String {
        let here = FileManager.default.currentDirectoryPath
        return path.hasPrefix(here + "/") ? String(path.dropFirst(here.count + 1)) : path
    }

    /// `key=value key=value`.
    static func parameters(_ t: StudySnapshot.Trial) -> String {
        t.parameters.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
