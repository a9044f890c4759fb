import Foundation

/// `autoglm export`: a trained run's model in another program's layout.
public enum ModelExport {
    /// The tokenizer's file in every export: AutoGLM's `tokenizer.json` under a name Hugging
    /// Face's `AutoTokenizer` does not mistake for one of its own.
    public static let tokenizerFile = "char_tokenizer.json"

    /// Writes the `checkpoint` of the run (or checkpoint) directory `run` into the directory
    /// `destination` (created; files of the same names replaced) in `format`. Returns the files
    /// written, by name.
    /// - Throws: `CheckpointError` for a missing or damaged checkpoint, `ExportError` for a
    ///   model the format cannot express or a destination that cannot be written.
    @discardableResult
    public static func export(run: String, checkpoint choice: RunDirectory.CheckpointChoice = .latest, format: ExportFormat,
                              to destination: String) throws -> [String] {
        let model = try ExportedModel(checkpoint: try RunDirectory.checkpoint(at: run, choice))
        let directory = URL(fileURLWithPath: ConfigPaths.expandingTilde(destination), isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ExportError(message: "\(directory.path): cannot create the export directory: \(error.localizedDescription)")
        }
        switch format {
        case .nanogpt: return try NanoGPTExport.write(model, into: directory)
        case .hf: return try HuggingFaceExport.write(model, into: directory)
        }
    }
}
