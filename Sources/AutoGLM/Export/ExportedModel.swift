import AutoGLMCore
import Foundation

/// A checkpoint's model as the exports see it: its shape, its weights by AutoGLM name and its
/// tokenizer, checked to be a plain GPT-2 (the only model nanoGPT and `GPT2LMHeadModel` can
/// run: learned positions and exact softmax attention over every head with the 1/sqrt(head_dim)
/// scale).
struct ExportedModel {
    /// The checkpoint directory.
    let checkpoint: URL
    /// The model shape.
    let config: GPTConfig
    /// The weights by AutoGLM name (`blocks.0.attn.qkv.weight`).
    let weights: [String: Tensor]
    /// The run's tokenizer.
    let tokenizer: CharTokenizer
    /// The training step of the checkpoint.
    let step: Int

    /// Attention components computing exactly GPT-2's attention (with their default scale and
    /// one key/value head per query head).
    static let plainAttention: Set<String> = ["causal_dense", "flash"]

    /// The model of the checkpoint directory `url`.
    /// - Throws: `CheckpointError` for a damaged checkpoint, `ExportError` for a model GPT-2
    ///   cannot express, naming what differs.
    init(checkpoint url: URL) throws {
        let saved = try Checkpoint.read(from: url)
        let attention = (try? JSONSerialization.jsonObject(with: Data(saved.attentionJSON.utf8))) as? [String: Any] ?? [:]
        let name = attention["name"] as? String ?? "?"
        guard Self.plainAttention.contains(name) else {
            throw ExportError(message: "\(url.path): the model uses attention '\(name)', which GPT-2 has no equivalent of; only a model trained with \(Self.plainAttention.sorted().joined(separator: " or ")) can be exported")
        }
        for (key, plain) in [("scale", 0.0), ("kv_heads", 0.0)] {
            if let value = (attention[key] as? NSNumber)?.doubleValue, value != plain,
               !(key == "kv_heads" && Int(value) == saved.model.nHead),
               !(key == "scale" && value == 1 / Double(saved.model.headDim).squareRoot()) {
                throw ExportError(message: "\(url.path): attention.\(key) is \(value); GPT-2 uses the default (\(key == "scale" ? "1/sqrt(head_dim)" : "one key/value head per head")), so this model cannot be exported")
            }
        }
        guard saved.model.positionEmbedding else {
            throw ExportError(message: "\(url.path): the model has no position embedding (model.position_embedding: false); GPT-2 always adds learned positions, so it cannot be exported")
        }
        checkpoint = url
        config = saved.model
        weights = Dictionary(saved.weights.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        tokenizer = saved.tokenizer
        step = saved.manifest.trainer.step
    }

    /// The weight `name`.
    /// - Throws: `ExportError` when the checkpoint lacks it.
    func weight(_ name: String) throws -> Tensor {
        guard let tensor = weights[name] else {
            throw ExportError(message: "\(checkpoint.path): the weights lack '\(name)'; the checkpoint is not of an AutoGLM GPT")
        }
        return tensor
    }

    /// The weights under GPT-2's names (nanoGPT's and `GPT2LMHeadModel`'s alike), in model order,
    /// each as its `torch.nn.Linear` weight [out, in] where it is a projection, and whether it
    /// is one (Hugging Face's `Conv1D` stores those transposed).
    func gpt2Weights() throws -> [(name: String, tensor: Tensor, isProjection: Bool)] {
        var out: [(String, Tensor, Bool)] = [("transformer.wte.weight", try weight("token_embedding.weight"), false),
                                            ("transformer.wpe.weight", try weight("position_embedding.weight"), false)]
        for layer in 0..<config.nLayer {
            let ours = "blocks.\(layer).", theirs = "transformer.h.\(layer)."
            out += [(theirs + "ln_1.weight", try weight(ours + "norm1.weight"), false),
                    (theirs + "attn.c_attn.weight", try weight(ours + "attn.qkv.weight"), true),
                    (theirs + "attn.c_proj.weight", try weight(ours + "attn.proj.weight"), true),
                    (theirs + "ln_2.weight", try weight(ours + "norm2.weight"), false),
                    (theirs + "mlp.c_fc.weight", try weight(ours + "mlp.fc.weight"), true),
                    (theirs + "mlp.c_proj.weight", try weight(ours + "mlp.out.weight"), true)]
        }
        out.append(("transformer.ln_f.weight", try weight("final_norm.weight"), false))
        return out.map { (name: $0.0, tensor: $0.1, isProjection: $0.2) }
    }

    /// Writes the run's tokenizer as `char_tokenizer.json` in `directory` (see README, "The
    /// tokenizer file").
    func writeTokenizer(into directory: URL) throws {
        try AtomicFile.write(try JSONEncoder().encode(tokenizer), to: directory.appendingPathComponent(ModelExport.tokenizerFile))
    }
}

/// A model that cannot be exported, or an export that cannot be written.
public struct ExportError: Error, CustomStringConvertible, Sendable {
    /// What is wrong and what to do.
    public let message: String
    /// The message.
    public var description: String { message }
}
