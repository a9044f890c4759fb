import Configuration
import Foundation

/// The value type of a host-owned key.
enum HostKeyType: Sendable {
    /// A scalar described like a plugin parameter; `exclusiveMinimum` makes `min` strict.
    case parameter(ParameterSpec, exclusiveMinimum: Bool)
    /// A list of names or paths.
    case stringList(default: [String])
}

/// One host-owned config key, its type and its built-in default.
struct HostKey: Sendable {
    /// Dotted key, e.g. `train.steps`.
    let key: String
    /// Value type and default.
    let type: HostKeyType

    /// Key components (`["train", "steps"]`).
    var components: [String] { key.split(separator: ".").map(String.init) }

    /// Whether the key holds a list (read from providers as a string array).
    var isList: Bool {
        if case .stringList = type { return true }
        if case .parameter(let spec, _) = type { return spec.kind == .floatList }
        return false
    }

    /// The default as the defaults provider holds it: as text, the way a user would write it.
    var defaultContent: ConfigContent {
        switch type {
        case .stringList(let items): return .stringArray(items)
        case .parameter(let spec, _):
            if case .list(let items) = spec.defaultValue {
                return .stringArray(items.map { ParameterValue.number($0).description })
            }
            return .string(spec.displayText(spec.defaultValue))
        }
    }
}

/// The table of host-owned keys, in `config show` order. Defaults come from the public
/// section types' initialisers, so they are written down once.
enum HostKeys {
    /// Top-level names a config may use.
    static let topLevel = ["data", "model", "train", "run", "attention", "optimizer", "evaluators", "callbacks",
                           "params", "plugins"]
    /// Sections whose every key is host-owned (the others also hold component parameters).
    static let hostSections: Set<String> = ["data", "model", "train", "run", "plugins"]
    /// Top-level names that are keys themselves rather than sections.
    static let topLevelLeaves: Set<String> = ["evaluators", "callbacks"]

    /// Every host-owned key.
    static let all: [HostKey] = {
        let d = DataConfig(), m = ModelConfig(), t = TrainConfig(), r = RunDirConfig(), c = RunConfig()
        return [
            string("data.path", d.path, "text file or directory of text files"),
            float("data.val_fraction", d.valFraction, min: 0, exclusive: true, max: 0.5,
                  "share of the text held out for validation"),
            int("model.n_layer", m.nLayer, min: 1, "transformer blocks"),
            int("model.n_head", m.nHead, min: 1, "attention heads (divides model.n_embd)"),
            int("model.n_embd", m.nEmbd, min: 1, "width of the residual stream"),
            int("model.block_size", m.blockSize, min: 1, "context length"),
            bool("model.position_embedding", m.positionEmbedding, "learned absolute position embeddings"),
            int("train.steps", t.steps, min: 1, "optimizer steps"),
            int("train.batch_size", t.batchSize, min: 1, "sequences per micro-batch"),
            int("train.accumulation_steps", t.accumulationSteps, min: 1, "micro-batches per optimizer step"),
            int("train.warmup_steps", t.warmupSteps, min: 0, "linear warmup steps"),
            float("train.min_lr", t.minLR, min: 0, "learning rate at the end of the decay"),
            HostKey(key: "train.lr_schedule", type: .parameter(ParameterSpec(
                name: "lr_schedule", kind: .choice, doc: "decay after warmup",
                defaultValue: .string(t.lrSchedule.rawValue),
                choices: LearningRateSchedule.Shape.allCases.map(\.rawValue)), exclusiveMinimum: false)),
            float("train.grad_clip", t.gradClip, min: 0, "global gradient-norm clip (0 disables)"),
            int("train.eval_interval", t.evalInterval, min: 0, "steps between evaluations (0: only after the last step)"),
            int("train.eval_batches", t.evalBatches, min: 1, "batches per evaluation"),
            int("train.log_interval", t.logInterval, min: 1, "steps between log lines"),
            int("train.seed", t.seed, min: 0, "random seed"),
            int("train.threads", t.threads, min: 1, "worker threads"),
            string("run.dir", r.dir, "run directory"),
            string("attention.name", c.attention.name, "attention component"),
            string("optimizer.name", c.optimizer.name, "optimizer component"),
            float("optimizer.lr", c.lr, min: 0, exclusive: true, "peak learning rate"),
            HostKey(key: "evaluators", type: .stringList(default: c.evaluators.map(\.name))),
            HostKey(key: "callbacks", type: .stringList(default: c.callbacks.map(\.name))),
            HostKey(key: "plugins.paths", type: .stringList(default: c.pluginPaths)),
        ]
    }()

    /// `all` by key.
    static let byKey: [String: HostKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })

    /// The defaults layer: every host key's built-in default.
    static func defaultsProvider() -> InMemoryProvider {
        InMemoryProvider(name: "default", values: Dictionary(uniqueKeysWithValues: all.map {
            (AbsoluteConfigKey($0.components), ConfigValue($0.defaultContent, isSecret: false))
        }))
    }

    private static func name(_ key: String) -> String { String(key.split(separator: ".").last!) }

    private static func string(_ key: String, _ value: String, _ doc: String) -> HostKey {
        HostKey(key: key, type: .parameter(ParameterSpec(name: name(key), kind: .string, doc: doc,
                                                         defaultValue: .string(value)), exclusiveMinimum: false))
    }

    private static func int(_ key: String, _ value: Int, min: Double, _ doc: String) -> HostKey {
        HostKey(key: key, type: .parameter(ParameterSpec(name: name(key), kind: .int, doc: doc,
                                                         defaultValue: .number(Double(value)), min: min),
                                           exclusiveMinimum: false))
    }

    private static func float(_ key: String, _ value: Double, min: Double, exclusive: Bool = false,
                               max: Double = .infinity, _ doc: String) -> HostKey {
        HostKey(key: key, type: .parameter(ParameterSpec(name: name(key), kind: .float, doc: doc,
                                                         defaultValue: .number(value), min: min, max: max),
                                           exclusiveMinimum: exclusive))
    }

    private static func bool(_ key: String, _ value: Bool, _ doc: String) -> HostKey {
        HostKey(key: key, type: .parameter(ParameterSpec(name: name(key), kind: .bool, doc: doc,
                                                         defaultValue: .number(value ? 1 : 0)),
                                           exclusiveMinimum: false))
    }
}
