import Foundation

/// `trainer.json` of a checkpoint: the trainer's state and the record of every component the run
/// used (name, version, file, and the bytes its `save_state` wrote). With `model.safetensors`,
/// `optimizer.safetensors`, `config.json` and `tokenizer.json` it is the whole training state.
struct CheckpointManifest: Codable, Equatable {
    /// One component instance of the run.
    struct Component: Codable, Equatable {
        /// `attention`, `optimizer`, `evaluator` or `callback`.
        var kind: String
        /// Registered name.
        var name: String
        /// The component's own version.
        var version: String
        /// The plugin file (or in-process owner) it came from.
        var file: String
        /// Which instance: `blocks.N` for attention, the list index for evaluators and callbacks.
        var instance: String
        /// What its `save_state` wrote, base64 (nil: it has no `save_state`).
        var state: String?
    }

    /// Always `autoglm-checkpoint`.
    var format = CheckpointManifest.formatName
    /// Version of this layout (1).
    var version = 1
    /// The host that wrote it.
    var hostVersion = HostInfo.version
    /// When it was written (ISO 8601, UTC).
    var createdAt: String
    /// Everything that changes from step to step.
    var trainer: TrainerState
    /// Every component instance, in model order: attention per block, optimizer, evaluators,
    /// callbacks.
    var components: [Component]

    /// The value of `format`.
    static let formatName = "autoglm-checkpoint"

    /// JSON keys, snake_case like the run log.
    enum CodingKeys: String, CodingKey {
        case format, version, trainer, components
        case hostVersion = "host_version", createdAt = "created_at"
    }
}
