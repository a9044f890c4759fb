import Foundation

/// Reads a finished trial's objective values from what it left: its run log (evaluation
/// metrics, tokens per second), its saved weights (the parameter count: exact whatever the
/// components add, where a count from the config alone would have to know each attention's
/// key/value heads) and its process's peak memory.
enum TrialMeasurement {
    /// The values of `objectives`, or why one cannot be had (missing, or not finite).
    static func values(_ objectives: [Objective], log: RunLog, runDirectory: String,
                       peakResidentBytes: Int) -> Result<[Double], SearchError> {
        var values: [Double] = []
        for objective in objectives {
            let value: Double
            switch objective.source {
            case .metric(let name):
                guard let last = log.metric(name).last else {
                    let names = Set(log.evaluations.flatMap(\.metrics.keys)).sorted()
                    return .failure(SearchError("the run's evaluations report no \(name) (they report "
                                                + (names.isEmpty ? "nothing" : names.joined(separator: ", ")) + ")"))
                }
                value = last.value
            case .tokensPerSecond:
                guard let last = log.steps.last else { return .failure(SearchError("the run logged no step")) }
                value = last.tokensPerSecond
            case .parameterCount:
                switch parameterCount(runDirectory: runDirectory) {
                case .success(let count): value = Double(count)
                case .failure(let error): return .failure(error)
                }
            case .peakMemory:
                value = Double(peakResidentBytes) / 1_048_576
            }
            guard value.isFinite else {
                return .failure(SearchError("\(objective.name) is \(value) (the training diverged?)"))
            }
            values.append(value)
        }
        return .success(values)
    }

    /// The number of scalars in the run's `model.safetensors`.
    static func parameterCount(runDirectory: String) -> Result<Int, SearchError> {
        let path = (runDirectory as NSString).appendingPathComponent("model.safetensors")
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else {
            return .failure(SearchError("no weights at \(path) to count the parameters of (not saved: NaN weights?)"))
        }
        do {
            let layout = try data.withUnsafeBytes { try SafetensorsLayout.parse($0).layout }
            return .success(layout.entries.reduce(0) { $0 + $1.elementCount })
        } catch {
            return .failure(SearchError("\(path): \(error)"))
        }
    }

    /// Seconds of training and evaluation the run's log reports (its last record's elapsed_s).
    static func trainSeconds(_ log: RunLog) -> Double? {
        let last = [log.steps.last?.elapsedSeconds, log.evaluations.last?.elapsedSeconds].compactMap { $0 }.filter(\.isFinite)
        return last.max()
    }
}
