import ArgumentParser
import AutoGLM
import Foundation

/// `autoglm export`: a trained run's model as nanoGPT's state dict or a Hugging Face GPT-2.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a trained run's model as a nanoGPT state dict or a Hugging Face GPT-2 directory.",
        discussion: "nanogpt: model.safetensors under nanoGPT's names, model_args.json, meta.json (itos/stoi) and "
            + "char_tokenizer.json. hf: config.json and model.safetensors that transformers' GPT2LMHeadModel loads "
            + "(projections transposed for its Conv1D, zero biases, exact GELU), and char_tokenizer.json. Only a plain "
            + "GPT-2 can be exported: attention causal_dense or flash with their default scale and all heads, and "
            + "learned positions.")

    @Argument(help: ArgumentHelp("A run directory written by `autoglm train`, or one of its checkpoint directories.", valueName: "RUN"))
    var runDirectory: String

    @Argument(help: ArgumentHelp("The directory to write (created; files of the same names are replaced).", valueName: "DIR"))
    var destination: String

    @Option(help: ArgumentHelp("nanogpt or hf.", valueName: "nanogpt|hf"))
    var format: ExportFormat

    @Option(help: ArgumentHelp("Which checkpoint of the run: latest, best, or a step number.", valueName: "latest|best|STEP"))
    var checkpoint: String = "latest"

    func validate() throws { _ = try TrainedRun.checkpoint(checkpoint) }

    func run() throws {
        let files = try ModelExport.export(run: runDirectory, checkpoint: try TrainedRun.checkpoint(checkpoint), format: format,
                                           to: destination)
        print("wrote \(files.map { (destination as NSString).appendingPathComponent($0) }.joined(separator: ", "))")
    }
}

extension ExportFormat: ExpressibleByArgument {}
