import AutoGLMCore
import Foundation

/// A checkpoint directory, written by the host (never by a plugin) and read back whole or not at
/// all:
///
///     model.safetensors      the weights; __metadata__: format, step, model shape, attention
///     optimizer.safetensors  every optimizer state buffer, keyed optim/<param>/<slot>
///     trainer.json           TrainerState (step, both RNG streams, callback requests, metrics)
///                            and every component's name, version, file and saved state
///     config.json            the resolved config (the same JSON as log.jsonl's first record)
///     tokenizer.json         the character vocabulary
///
/// `write` builds the directory under a temporary name next to its destination, with every file
/// written atomically (`AtomicFile`), then renames it into place and flushes the parent: a crash
/// at any instant leaves either no directory or a complete one.
struct Checkpoint {
    /// The weights by parameter name.
    var weights: [(name: String, tensor: Tensor)]
    /// The optimizer's state buffers as `optim/<param>/<slot>`.
    var optimizerState: [(name: String, tensor: Tensor)]
    /// `trainer.json`.
    var manifest: CheckpointManifest
    /// `config.json`: the resolved config as one JSON object.
    var configJSON: String
    /// `tokenizer.json`.
    var tokenizer: CharTokenizer
    /// The model shape, written into the weights' metadata.
    var model: GPTConfig
    /// The config's `attention` section as one JSON object (name and parameters), written into
    /// the weights' metadata.
    var attentionJSON: String

    /// The files of a checkpoint directory.
    enum File: String, CaseIterable {
        case model = "model.safetensors", optimizer = "optimizer.safetensors", trainer = "trainer.json"
        case config = "config.json", tokenizer = "tokenizer.json"
    }

    /// Writes the checkpoint as the directory `url` (replacing one that exists).
    /// - Throws: `CheckpointError` naming the file that could not be written.
    func write(to url: URL) throws {
        let fm = FileManager.default
        let parent = url.deletingLastPathComponent()
        let staging = parent.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try? fm.removeItem(at: staging)
            try fm.createDirectory(at: staging, withIntermediateDirectories: true)
            try Safetensors.write(weights, metadata: weightsMetadata, to: staging.appendingPathComponent(File.model.rawValue))
            try Safetensors.write(optimizerState, metadata: ["format": "autoglm-optimizer", "step": String(manifest.trainer.step)],
                                  to: staging.appendingPathComponent(File.optimizer.rawValue))
            try AtomicFile.write(try Self.encoder.encode(manifest), to: staging.appendingPathComponent(File.trainer.rawValue))
            try AtomicFile.write(Data(configJSON.utf8), to: staging.appendingPathComponent(File.config.rawValue))
            try AtomicFile.write(try Self.encoder.encode(tokenizer), to: staging.appendingPathComponent(File.tokenizer.rawValue))
            if fm.fileExists(atPath: url.path) { try fm.removeItem(at: url) }
            guard rename(staging.path, url.path) == 0 else {
                throw CheckpointError(message: "\(url.path): cannot move the finished checkpoint into place: \(String(cString: strerror(errno)))")
            }
            try AtomicFile.syncDirectory(parent.path, for: url)
        } catch let error as CheckpointError {
            try? fm.removeItem(at: staging)
            throw error
        } catch {
            try? fm.removeItem(at: staging)
            throw CheckpointError(message: "\(url.path): cannot write the checkpoint: \(error.localizedDescription)")
        }
    }

    /// The weights' `__metadata__`: the file describes its model.
    private var weightsMetadata: [String: String] {
        ["format": "autoglm", "step": String(manifest.trainer.step),
         "model": String(decoding: (try? Self.encoder.encode(model)) ?? Data(), as: UTF8.self), "attention": attentionJSON]
    }

    /// Reads the checkpoint directory at `url`.
    /// - Throws: `CheckpointError` naming the missing or damaged file and what to do.
    static func read(from url: URL) throws -> Checkpoint {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CheckpointError(message: "\(url.path): no such checkpoint directory")
        }
        for file in File.allCases where !fm.fileExists(atPath: url.appendingPathComponent(file.rawValue).path) {
            throw CheckpointError(message: "\(url.path): not a complete checkpoint: \(file.rawValue) is missing (a checkpoint is written whole; this directory was not written by AutoGLM or was changed since)")
        }
        func decode<T: Decodable>(_ type: T.Type, _ file: File) throws -> T {
            let path = url.appendingPathComponent(file.rawValue)
            do {
                return try JSONDecoder().decode(type, from: Data(contentsOf: path))
            } catch {
                throw CheckpointError(message: "\(path.path): cannot be read: \(Self.describe(error))")
            }
        }
        let manifest = try decode(CheckpointManifest.self, .trainer)
        guard manifest.format == CheckpointManifest.formatName, manifest.version == 1 else {
            throw CheckpointError(message: "\(url.appendingPathComponent(File.trainer.rawValue).path): format \(manifest.format) version \(manifest.version) is not an AutoGLM checkpoint this host reads (\(CheckpointManifest.formatName) version 1)")
        }
        let tokenizer = try decode(CharTokenizer.self, .tokenizer)
        let configURL = url.appendingPathComponent(File.config.rawValue)
        guard let configData = try? Data(contentsOf: configURL), let configJSON = String(data: configData, encoding: .utf8),
              (try? JSONSerialization.jsonObject(with: configData)) is [String: Any] else {
            throw CheckpointError(message: "\(configURL.path): not a JSON object; the checkpoint is damaged")
        }
        let (weights, metadata) = try Safetensors.read(from: url.appendingPathComponent(File.model.rawValue))
        let (optimizer, _) = try Safetensors.read(from: url.appendingPathComponent(File.optimizer.rawValue))
        let modelURL = url.appendingPathComponent(File.model.rawValue)
        guard metadata["format"] == "autoglm", metadata["step"] == String(manifest.trainer.step),
              let model = metadata["model"].flatMap({ try? JSONDecoder().decode(GPTConfig.self, from: Data($0.utf8)) }),
              let attention = metadata["attention"],
              (try? JSONSerialization.jsonObject(with: Data(attention.utf8))) is [String: Any] else {
            throw CheckpointError(message: "\(modelURL.path): its metadata does not describe the model of step \(manifest.trainer.step) (format, step, model, attention)")
        }
        guard tokenizer.count == model.vocabSize else {
            throw CheckpointError(message: "\(url.appendingPathComponent(File.tokenizer.rawValue).path): \(tokenizer.count) characters, but the model of step \(manifest.trainer.step) has a vocabulary of \(model.vocabSize): the checkpoint's files do not belong together (sampling would print garbage); use another checkpoint")
        }
        return Checkpoint(weights: weights.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                          optimizerState: optimizer.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                          manifest: manifest, configJSON: configJSON, tokenizer: tokenizer, model: model,
                          attentionJSON: attention)
    }

    /// A decoding error in words.
    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): return context.debugDescription
        case DecodingError.keyNotFound(let key, _): return "the field '\(key.stringValue)' is missing"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        default: return error.localizedDescription
        }
    }

    /// Sorted keys, so the same state gives the same bytes.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
