import Foundation

/// Reading `log.jsonl`: line 1 the run's resolved config (a JSON object without "kind"), then
/// one JSON object per line with a "kind": "step" and "eval" records are read, other kinds are
/// skipped (later versions may add some). A run still being written may end in a partial line,
/// which is left out; anything else that is not a JSON object line refuses the whole file, with
/// its line number.
extension RunLog {
    /// Reads the log of the run directory `path` (or the log file itself, when `path` is a file).
    public init(contentsOf path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PlotError("'\(path)' does not exist: pass a run directory written by `autoglm train` (its run.dir)")
        }
        let url = URL(fileURLWithPath: path)
        let file = isDirectory.boolValue ? url.appendingPathComponent("log.jsonl") : url
        let runDirectory = isDirectory.boolValue ? url : url.deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw PlotError("'\(path)' has no log.jsonl: it is not a run directory written by `autoglm train`")
        }
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw PlotError("cannot read '\(file.path)': \(error.localizedDescription)")
        }
        try self.init(parsing: data, path: file.path, name: runDirectory.standardizedFileURL.lastPathComponent)
    }

    /// Parses the bytes of a log; `path` names it in errors, `name` is the run's name.
    public init(parsing data: Data, path: String, name: String) throws {
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let complete = data.last == UInt8(ascii: "\n")
        if complete { lines.removeLast() }  // the empty piece after the final newline
        self.init(name: name, path: path, config: [:], steps: [], evaluations: [], droppedPartialLine: false)
        var sawConfig = false
        for (index, line) in lines.enumerated() {
            let number = index + 1, isPartial = !complete && index == lines.count - 1
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) {
                continue
            }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
                if isPartial && sawConfig { droppedPartialLine = true; continue }
                if !sawConfig {
                    throw PlotError("'\(path)' is not an AutoGLM run log: its first line is not a JSON object (the run's "
                                    + "resolved config, which `autoglm train` writes first)")
                }
                throw PlotError("'\(path)' line \(number) is not a JSON object: the log is corrupt")
            }
            if !sawConfig {
                if let kind = object["kind"] {
                    throw PlotError("'\(path)' is not an AutoGLM run log: its first line is a \"\(kind)\" record, not the "
                                    + "run's resolved config")
                }
                config = Self.flatten(object)
                sawConfig = true
                continue
            }
            try read(record: object, line: number)
        }
        if !sawConfig { throw PlotError("'\(path)' is empty: not an AutoGLM run log (the first line is the run's config)") }
    }

    /// Adds one record (line `line`) of kind step or eval; skips other kinds.
    private mutating func read(record: [String: Any], line: Int) throws {
        guard let kind = record["kind"] as? String else {
            throw PlotError("'\(path)' line \(line) has no \"kind\": the log is corrupt")
        }
        guard kind == "step" || kind == "eval" else { return }
        guard let stepNumber = record["step"] as? NSNumber, let step = Int(exactly: stepNumber.doubleValue) else {
            throw PlotError("'\(path)' line \(line): a \(kind) record needs an integer \"step\"")
        }
        func number(_ key: String) throws -> Double {
            switch record[key] {
            case nil, is NSNull: return .nan
            case let n as NSNumber: return n.doubleValue
            case let other?: throw PlotError("'\(path)' line \(line): \"\(key)\" is \(other), not a number")
            }
        }
        if kind == "step" {
            steps.append(Step(step: step, loss: try number("loss"), lr: try number("lr"), gradNorm: try number("grad_norm"),
                              tokensPerSecond: try number("tokens_per_s"), elapsedSeconds: try number("elapsed_s")))
        } else {
            var metrics: [String: Double] = [:]
            for key in record.keys where !["kind", "step", "elapsed_s"].contains(key) { metrics[key] = try number(key) }
            evaluations.append(Evaluation(step: step, elapsedSeconds: try number("elapsed_s"), metrics: metrics))
        }
    }

    /// A JSON object flattened to dotted keys; leaves as text (numbers as JSON writes them,
    /// lists as "[a, b]").
    static func flatten(_ object: [String: Any], prefix: String = "") -> [String: String] {
        var out: [String: String] = [:]
        for (key, value) in object {
            let path = prefix.isEmpty ? key : prefix + "." + key
            if let nested = value as? [String: Any] {
                out.merge(flatten(nested, prefix: path)) { a, _ in a }
            } else {
                out[path] = text(value)
            }
        }
        return out
    }

    /// A JSON leaf as text.
    private static func text(_ value: Any) -> String {
        switch value {
        case let s as String: return s
        case is NSNull: return "null"
        case let list as [Any]: return "[" + list.map(text).joined(separator: ", ") + "]"
        case let n as NSNumber: return "\(n)"
        default: return "\(value)"
        }
    }
}
