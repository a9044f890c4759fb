import AutoGLMCore
import Foundation

/// nanoGPT's layout (karpathy/nanoGPT `model.py`, `bias=False`): `model.safetensors` holds the
/// state dict of its `GPT` under its names (`transformer.h.0.attn.c_attn.weight` [3·C, C], …,
/// `lm_head.weight`, the tied copy of `transformer.wte.weight` that `state_dict()` lists too),
/// `model_args.json` the `model_args` of its `ckpt.pt`, `meta.json` the `meta.pkl` of its char
/// datasets (`vocab_size`, `itos`, `stoi`), and `char_tokenizer.json` AutoGLM's tokenizer. Load
/// with `GPT(GPTConfig(**model_args)).load_state_dict(safetensors.torch.load_file(…))`.
enum NanoGPTExport {
    /// Writes the files; returns their names.
    static func write(_ model: ExportedModel, into directory: URL) throws -> [String] {
        var tensors = try model.gpt2Weights().map { (name: $0.name, tensor: $0.tensor) }
        tensors.append((name: "lm_head.weight", tensor: try model.weight("token_embedding.weight")))
        try Safetensors.write(tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent("model.safetensors"))
        let c = model.config
        let args: [String: Any] = ["n_layer": c.nLayer, "n_head": c.nHead, "n_embd": c.nEmbd, "block_size": c.blockSize,
                                   "bias": false, "vocab_size": c.vocabSize, "dropout": 0.0]
        try HuggingFaceExport.writeJSON(args, to: directory.appendingPathComponent("model_args.json"))
        let itos = (0..<model.tokenizer.count).map { model.tokenizer.decode([Int32($0)]) }
        let meta: [String: Any] = ["vocab_size": c.vocabSize,
                                   "itos": Dictionary(uniqueKeysWithValues: itos.enumerated().map { (String($0), $1) }),
                                   "stoi": Dictionary(uniqueKeysWithValues: itos.enumerated().map { ($1, $0) })]
        try HuggingFaceExport.writeJSON(meta, to: directory.appendingPathComponent("meta.json"))
        try model.writeTokenizer(into: directory)
        return ["model.safetensors", "model_args.json", "meta.json", ModelExport.tokenizerFile]
    }
}
