import ArgumentParser
import AutoGLM
import Foundation

/// Opening a trained run to use it (`sample`, `eval`, `logits`): a session on one of its
/// checkpoints, without training data, that writes nothing into the run.
enum TrainedRun {
    /// `text` (a `--checkpoint` value) as a choice.
    static func checkpoint(_ text: String) throws -> RunDirectory.CheckpointChoice {
        guard let choice = RunDirectory.CheckpointChoice(text: text) else {
            throw ValidationError("--checkpoint must be latest, best or a step number, got '\(text)'")
        }
        return choice
    }

    /// A session on the `checkpoint` of the run (or checkpoint) directory `path`, its plugins
    /// searched in `plugins` first (then AUTOGLM_PLUGIN_PATH, the run's `plugins.paths`, the
    /// bundled ones).
    static func open(_ path: String, checkpoint: String, plugins: PluginOptions) throws -> Session {
        var options = SessionOptions()
        options.resume = path
        options.checkpoint = try Self.checkpoint(checkpoint)
        options.data = .none
        options.pluginDirectories = plugins.directories
        options.environment = ProcessInfo.processInfo.environment.filter { $0.key == "AUTOGLM_PLUGIN_PATH" }
        return try Session(options)
    }

    /// The text file (or folder of text files) `path` given with `option`, read as the corpus is.
    /// - Throws: `CommandError` naming the option and the path.
    static func readText(_ path: String, option: String) throws -> String {
        do {
            return try Corpus.load(path: ConfigPaths.expandingTilde(path))
        } catch let error as DataError {
            let message = error.message.hasPrefix("data.path: ") ? String(error.message.dropFirst("data.path: ".count)) : error.message
            throw CommandError(message: "\(option): \(message)")
        }
    }

    /// Writes `fields` as one line of JSON to standard output.
    static func printJSON(_ fields: [String: Any]) {
        FileHandle.standardOutput.write(Data(((JSONRecord.line(fields) ?? "{}") + "\n").utf8))
    }
}

/// A command's error about its own arguments, printed without the usage text.
struct CommandError: Error, CustomStringConvertible {
    /// What is wrong and what to do.
    let message: String
    /// The message.
    var description: String { message }
}
