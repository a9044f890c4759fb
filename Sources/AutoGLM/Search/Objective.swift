import Foundation

/// Whether an objective is to be made small or large.
public enum ObjectiveDirection: String, Sendable, Codable, Equatable {
    /// Smaller is better (val/loss, params, peak_rss_mb).
    case minimize = "min"
    /// Larger is better (tokens_per_s, accuracy).
    case maximize = "max"
}

/// One quantity a search optimises, with its direction: `val/loss` or any other evaluator
/// metric of the trial's last evaluation, `tokens_per_s` (the trainer's training throughput),
/// `params` (trainable scalars of the saved model) or `peak_rss_mb` (the trial process's peak
/// resident memory).
public struct Objective: Sendable, Codable, Equatable, CustomStringConvertible {
    /// What is measured.
    public enum Source: Sendable, Equatable {
        /// An evaluation metric of the run's log (`val/loss`, `val/perplexity`, ...).
        case metric(String)
        /// Training tokens per second, from the run's last step record.
        case tokensPerSecond
        /// Trainable parameters, from the saved weights.
        case parameterCount
        /// Peak resident set size of the trial process in MiB (`wait4`'s rusage).
        case peakMemory
    }

    /// The name as written: `val/loss`, `tokens_per_s`, `params`, `peak_rss_mb`.
    public let name: String
    /// Which way is better.
    public let direction: ObjectiveDirection

    /// An objective; `name` must be one of the four forms (see `parse`).
    public init(name: String, direction: ObjectiveDirection) {
        self.name = name
        self.direction = direction
    }

    /// What the name measures.
    public var source: Source {
        switch name {
        case "tokens_per_s": return .tokensPerSecond
        case "params": return .parameterCount
        case "peak_rss_mb": return .peakMemory
        default: return .metric(name)
        }
    }

    /// Whether it is read from the evaluations a trial reports while it runs (so it can prune).
    public var isEvaluationMetric: Bool {
        if case .metric = source { return true }
        return false
    }

    /// `NAME:min` or `NAME:max`.
    public var description: String { "\(name):\(direction.rawValue)" }

    /// The value in the minimisation convention every sampler, pruner and hypervolume works in
    /// (a maximised objective is negated).
    public func loss(_ value: Double) -> Double { direction == .minimize ? value : -value }

    /// Directions the user may leave out, by name.
    static let knownDirections: [String: ObjectiveDirection] = [
        "val/loss": .minimize, "val/perplexity": .minimize, "tokens_per_s": .maximize, "params": .minimize,
        "peak_rss_mb": .minimize,
    ]

    /// Parses `NAME[:min|max]` (`--objective val/loss`, `--objective tokens_per_s:max`). The
    /// direction may be left out for the names whose better side is known.
    /// - Throws: `ConfigError` naming the option, for an unknown name or a missing direction.
    public static func parse(_ text: String) throws -> Objective {
        let origin = "--objective \(text)"
        var name = text.trimmingCharacters(in: .whitespaces), direction: ObjectiveDirection?
        if let colon = name.lastIndex(of: ":") {
            let word = name[name.index(after: colon)...].lowercased()
            switch word {
            case "min", "minimize", "minimise": direction = .minimize
            case "max", "maximize", "maximise": direction = .maximize
            default:
                throw ConfigError(origin: origin, message: "the direction must be min or max, got \(quotedForMessage(word))")
            }
            name = String(name[..<colon])
        }
        let fixed = ["tokens_per_s", "params", "peak_rss_mb"]
        guard fixed.contains(name) || (name.hasPrefix("val/") && name.count > 4) else {
            throw ConfigError(origin: origin, message: "unknown objective \(quotedForMessage(name))"
                              + Suggestion.hint(for: name, in: fixed + ["val/loss"])
                              + "; use val/loss (or another evaluator metric, val/NAME), tokens_per_s, params or peak_rss_mb")
        }
        guard let chosen = direction ?? knownDirections[name] else {
            throw ConfigError(origin: origin, message: "say whether \(name) is to be minimised or maximised: "
                              + "--objective \(name):min or --objective \(name):max")
        }
        return Objective(name: name, direction: chosen)
    }
}
