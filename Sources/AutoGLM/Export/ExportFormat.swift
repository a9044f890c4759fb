/// The layouts `autoglm export` writes a trained model in.
public enum ExportFormat: String, CaseIterable, Sendable {
    /// nanoGPT's `GPT` state dict (the `model` of its `ckpt.pt`, `bias=False`) as safetensors,
    /// with its `model_args` and the tokenizer (`NanoGPTExport`).
    case nanogpt
    /// A Hugging Face `GPT2LMHeadModel` directory: `config.json` and `model.safetensors`
    /// (`HuggingFaceExport`).
    case hf
}
