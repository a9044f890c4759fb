import AutoGLMCore
import Foundation

/// What `autoglm sample` needs to rebuild a trained model: its shape and its attention choice.
public struct RunManifest: Codable, Sendable {
    /// Model shape (vocabulary size included).
    public var model: GPTConfig
    /// Attention component name.
    public var attention: String
    /// Attention parameters, as text in config syntax.
    public var attentionParameters: [String: String]
    /// Optimizer steps completed when the weights were written.
    public var step: Int
    /// issue #18: the kernel path the run trained on (`run.isa` resolved: "avx512", ...); absent
    /// in files written before it was recorded.
    public var isa: String? = nil

    /// A parameter value as config text (lists comma-separated), which validation reads back.
    static func text(_ value: ParameterValue) -> String {
        if case .list(let items) = value { return items.map { ParameterValue.number($0).description }.joined(separator: ",") }
        return value.description
    }
}

/// A run's folder: `log.jsonl` (first record the resolved config, then one record per logged
/// step and evaluation), `tokenizer.json`, `run.json` and `model.safetensors`.
public final class RunDirectory {
    /// The folder.
    public let url: URL
    private let log: FileHandle

    /// Creates (or reuses) the folder and starts a fresh log.
    public init(path: String) throws {
        url = URL(fileURLWithPath: path, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            let logURL = url.appendingPathComponent("log.jsonl")
            // Truncates an existing log; a failure surfaces as FileHandle's error just below.
            _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
            log = try FileHandle(forWritingTo: logURL)
        } catch {
            throw DataError(message: "run.dir: cannot create '\(path)': \(error.localizedDescription)")
        }
    }

    deinit { try? log.close() }

    /// Appends one JSON object (already serialised, no newline) to log.jsonl.
    public func appendLog(json: String) {
        log.write(Data((json + "\n").utf8))
    }

    /// Appends a record built from `fields` (numbers, strings, nested maps), keys sorted.
    public func appendLog(_ fields: [String: Any]) {
        let clean = fields.mapValues(RunDirectory.jsonSafe)
        if let data = try? JSONSerialization.data(withJSONObject: clean, options: [.sortedKeys]),
           let text = String(data: data, encoding: .utf8) {
            appendLog(json: text)
        }
    }

    /// Replaces non-finite doubles by NSNull (JSON has no NaN).
    static func jsonSafe(_ value: Any) -> Any {
        if let d = value as? Double { return d.isFinite ? d : NSNull() }
        if let m = value as? [String: Any] { return m.mapValues(jsonSafe) }
        return value
    }

    /// Writes the tokenizer.
    public func save(tokenizer: CharTokenizer) throws {
        try tokenizer.save(to: url.appendingPathComponent("tokenizer.json"))
    }

    /// Writes the model weights and the manifest.
    public func save(model: GPT, attention: ComponentSelection, step: Int) throws {
        try Safetensors.write(model.parameters.map { ($0.name ?? "", $0) },
                              metadata: ["format": "autoglm", "step": String(step)],
                              to: url.appendingPathComponent("model.safetensors"))
        let manifest = RunManifest(model: model.config, attention: attention.name,
                                   attentionParameters: attention.parameters.mapValues(RunManifest.text), step: step,
                                   isa: Kernels.path.name)   // issue #18: the session's pool's path
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(manifest).write(to: url.appendingPathComponent("run.json"), options: .atomic)
    }
}
