import AutoGLMCore
import Foundation

/// A Hugging Face `GPT2LMHeadModel` directory (transformers `models/gpt2`): `config.json`
/// (`model_type: gpt2`, `activation_function: gelu` — the exact erf GELU AutoGLM trains with,
/// not GPT-2's `gelu_new` — `n_positions` = block size, LayerNorm epsilon 1e-5, no dropout,
/// tied embeddings) and `model.safetensors` under `GPT2LMHeadModel`'s names. Its projections
/// are `Conv1D` layers, which store the weight as [in, out]: AutoGLM's [out, in] matrices are
/// written transposed. AutoGLM's model has no biases: every LayerNorm and projection bias is
/// written as zeros. `lm_head.weight` is left out, as `save_pretrained` leaves it (tied to
/// `transformer.wte.weight`). The character tokenizer is no `transformers` tokenizer: it goes
/// along as `char_tokenizer.json` (see README).
enum HuggingFaceExport {
    /// Writes the files; returns their names.
    static func write(_ model: ExportedModel, into directory: URL) throws -> [String] {
        var tensors: [(name: String, tensor: Tensor)] = []
        for (name, tensor, isProjection) in try model.gpt2Weights() {
            tensors.append((name, isProjection ? try Ops.transpose(tensor, 0, 1) : tensor))
            if name.hasSuffix("ln_1.weight") || name.hasSuffix("ln_2.weight") || name.hasSuffix("ln_f.weight") || isProjection {
                let width = isProjection ? tensor.shape[0] : tensor.count  // a Conv1D bias has one entry per output
                tensors.append((String(name.dropLast("weight".count)) + "bias", Tensor(zeros: [width])))
            }
        }
        try Safetensors.write(tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent("model.safetensors"))
        let c = model.config
        let config: [String: Any] = [
            "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "activation_function": "gelu",
            "vocab_size": c.vocabSize, "n_positions": c.blockSize, "n_ctx": c.blockSize, "n_embd": c.nEmbd,
            "n_layer": c.nLayer, "n_head": c.nHead, "n_inner": 4 * c.nEmbd, "layer_norm_epsilon": 1e-5,
            "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0, "initializer_range": 0.02,
            "scale_attn_weights": true, "tie_word_embeddings": true, "bos_token_id": NSNull(), "eos_token_id": NSNull(),
            "torch_dtype": "float32",
        ]
        try writeJSON(config, to: directory.appendingPathComponent("config.json"))
        try model.writeTokenizer(into: directory)
        return ["config.json", "model.safetensors", ModelExport.tokenizerFile]
    }

    /// Writes `object` as indented JSON with sorted keys, atomically.
    static func writeJSON(_ object: [String: Any], to url: URL) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try AtomicFile.write(data + Data("\n".utf8), to: url)
    }
}
