import AutoGLMCore
import Foundation

/// The table of host-owned config keys: one line per key, grouped by section, in `config show`
/// order. Everything else is derived from it (`ConfigSchema` reads the table through `Mirror`).
/// To add a key, add one line to its section; read it as `config.<section>.<name>`.
public struct HostKeys: Sendable {
    /// The one table.
    public static let table = HostKeys()

    /// `data.*`: the training text.
    public struct Data: HostKeySection {
        public let path = HostKey<String>.text(
            "data.path", default: "/usr/share/games/fortunes", role: .path,
            doc: "a text file, or a directory of text files (concatenated, sorted)")
        public let valFraction = HostKey<Double>.number(
            "data.val_fraction", default: 0.1, above: 0, max: 0.5, doc: "last fraction of the tokens held out for validation")
    }

    /// `model.*`: the GPT's shape.
    public struct Model: HostKeySection {
        public let nLayer = HostKey<Int>.integer("model.n_layer", default: 4, min: 1, doc: "transformer blocks")
        public let nHead = HostKey<Int>.integer("model.n_head", default: 4, min: 1, doc: "attention heads (divides model.n_embd)")
        public let nEmbd = HostKey<Int>.integer("model.n_embd", default: 128, min: 1, doc: "width of the residual stream")
        public let blockSize = HostKey<Int>.integer("model.block_size", default: 64, min: 1, doc: "context length")
        public let positionEmbedding = HostKey<Bool>.flag(
            "model.position_embedding", default: true, doc: "learned absolute positions (turn off for ALiBi-style attention)")
    }

    /// `train.*`: the training loop (defaults: nanoGPT's Shakespeare-char CPU recipe).
    public struct Train: HostKeySection {
        public let steps = HostKey<Int>.integer("train.steps", default: 2000, min: 1, doc: "optimizer steps")
        public let batchSize = HostKey<Int>.integer(
            "train.batch_size", default: 12, min: 1, doc: "sequences per optimizer step (the effective batch)")
        public let accumulationSteps = HostKey<Int>.integer(
            "train.accumulation_steps", default: 1, min: 1, doc: "micro-batches the batch is split into")
        public let warmupSteps = HostKey<Int>.integer("train.warmup_steps", default: 100, min: 0, doc: "linear warmup steps")
        public let minLR = HostKey<Double>.number("train.min_lr", default: 1e-4, min: 0, doc: "final learning rate")
        public let lrSchedule = HostKey<HookBinding>.hook(
            "train.lr_schedule", default: "cosine", shorthands: [
                HookShorthand("cosine", function: "warmup_cosine", argsFromKeys: [
                    "warmup": "train.warmup_steps", "total": "train.steps", "min_lr": "train.min_lr"],
                    doc: "linear warmup, cosine decay to train.min_lr (nanoGPT)"),
                HookShorthand("linear", function: "warmup_linear", argsFromKeys: [
                    "warmup": "train.warmup_steps", "total": "train.steps", "min_lr": "train.min_lr"],
                    doc: "linear warmup, linear decay to train.min_lr"),
                HookShorthand("constant", function: "linear_warmup", argsFromKeys: ["warmup": "train.warmup_steps"],
                              doc: "linear warmup, then optimizer.lr"),
            ], doc: "the learning rate of each step: a function of the lr_schedules plugin (or any)")
        public let gradClip = HostKey<Double>.number(
            "train.grad_clip", default: 1.0, min: 0, doc: "clip the global gradient norm (0 disables)")
        public let gradClipSchedule = HostKey<HookBinding>.hook(
            "train.grad_clip_schedule", default: "constant",
            shorthands: [HookShorthand("constant", function: nil, doc: "train.grad_clip at every step")],
            doc: "the clipping threshold of each step: a function (0 disables clipping)")
        public let accumulationSchedule = HostKey<HookBinding>.hook(
            "train.accumulation_schedule", default: "constant",
            shorthands: [HookShorthand("constant", function: nil, doc: "train.accumulation_steps, or what callbacks ask")],
            doc: "micro-batches of each step: a function (it overrides callbacks' requests)")
        public let weightDecaySchedule = HostKey<HookBinding>.hook(
            "train.weight_decay_schedule", default: "constant",
            shorthands: [HookShorthand("constant", function: nil, doc: "the optimizer's weight decay unchanged (multiplier 1)")],
            doc: "a multiplier on the optimizer's weight decay at each step: a function (>= 0)")
        public let evalInterval = HostKey<Int>.integer(
            "train.eval_interval", default: 250, min: 0, doc: "steps between evaluations (0: only after the last step)")
        public let evalBatches = HostKey<Int>.integer("train.eval_batches", default: 200, min: 1, doc: "batches per evaluation")
        public let logInterval = HostKey<Int>.integer("train.log_interval", default: 10, min: 1, doc: "steps between log records")
        public let seed = HostKey<Int>.integer("train.seed", default: 1337, min: 0, doc: "initialisation and batch sampling")
        public let threads = HostKey<Int>.integer("train.threads", default: 2, min: 1, doc: "GEMM and kernel threads")
        public let precision = HostKey<Precision>.choice(
            "train.precision", default: .fp32, doc: "GEMM operands: fp32, or bf16 (rounded, fp32 accumulation and master weights)")
        public let activationCheckpointing = HostKey<ActivationCheckpointing>.choice(
            "train.activation_checkpointing", default: .none, doc: "blocks: recompute each block's activations in the backward")
        public let onNonfinite = HostKey<NonFinitePolicy>.choice(
            "train.on_nonfinite", default: .stop, doc: "a NaN or infinite loss or gradient: stop (checkpoint, exit), skip the step, or ignore it")
        public let maxSkippedSteps = HostKey<Int>.integer(
            "train.max_skipped_steps", default: 10, min: 1, doc: "with on_nonfinite skip: stop after this many skipped steps in a row")
    }

    /// `checkpoint.*`: when the whole training state is saved and which checkpoints are kept.
    public struct Checkpoints: HostKeySection {
        public let every = HostKey<Int>.integer(
            "checkpoint.every", default: 0, min: 0, doc: "steps between checkpoints (0: at every evaluation); also at every stop")
        public let keepLast = HostKey<Int>.integer("checkpoint.keep_last", default: 3, min: 1, doc: "latest checkpoints kept (the best is kept too)")
        public let bestMetric = HostKey<String>.text(
            "checkpoint.best_metric", default: "val/loss", doc: "evaluation metric picking the best checkpoint (empty: none)")
        public let bestMode = HostKey<MetricGoal>.choice("checkpoint.best_mode", default: .min, doc: "whether lower or higher is better")
    }

    /// `run.*`: where the run's files go, and the kernel path it runs.
    public struct Run: HostKeySection {
        public let dir = HostKey<String>.text("run.dir", default: "runs/latest", role: .path, doc: "where the run's files go")
        public let isa = HostKey<ISAChoice>.choice("run.isa", default: .auto, doc: "kernel path (auto: the fastest this CPU runs)")
    }

    /// `attention.*`: the attention component and its parameters (`attention.<param>`).
    public struct Attention: HostKeySection {
        public let name = HostKey<String>.component(.attention, "attention.name", default: "flash", doc: "attention component")
    }

    /// `optimizer.*`: the optimizer, the peak learning rate and the optimizer's parameters.
    public struct Optimizer: HostKeySection {
        public let name = HostKey<String>.component(.optimizer, "optimizer.name", default: "adamw", doc: "optimizer component")
        public let lr = HostKey<Double>.number("optimizer.lr", default: 1e-3, above: 0, doc: "peak learning rate")
    }

    /// `evaluators` and `callbacks`: lists of components, with parameters under `params.<name>`.
    public struct Components: HostKeySection {
        public let evaluators = HostKey<[String]>.components(
            .evaluator, "evaluators", default: ["perplexity"], doc: "evaluator components")
        public let callbacks = HostKey<[String]>.components(.callback, "callbacks", default: [], doc: "callback components")
    }

    /// `distributed.*`: data-parallel training under mpirun (ignored by a single process).
    public struct Distributed: HostKeySection {
        public let bucketMB = HostKey<Double>.number(
            "distributed.bucket_mb", default: 25, above: 0, max: 1024, doc: "gradient bucket size in MB (each bucket's allreduce starts when its gradients are final)")
    }

    /// `plugins.*`: where plugins are searched.
    public struct Plugins: HostKeySection {
        public let paths = HostKey<[String]>.names("plugins.paths", default: [], role: .paths, doc: "extra plugin directories")
    }

    public let data = Data()
    public let model = Model()
    public let train = Train()
    public let run = Run()
    public let checkpoint = Checkpoints()
    public let attention = Attention()
    public let optimizer = Optimizer()
    public let components = Components()
    public let distributed = Distributed()
    public let plugins = Plugins()

    /// Rules between keys, checked after every key is valid on its own.
    static func checkConsistency(_ config: RunConfig, sources: [String: ConfigSource]) throws {
        let keys = table.model
        let embd = config[keys.nEmbd], heads = config[keys.nHead]
        func from(_ key: AnyHostKey) -> String { sources[key.name]?.label ?? "default" }
        if let path = config[table.run.isa].path, path > KernelPath.detected {
            throw ConfigError(origin: nil, message: "run.isa (\(path.name), from \(from(table.run.isa))) needs a CPU with "
                              + "\(path.name); this one runs up to \(KernelPath.detected.name): use auto or a lower path")
        }
        if embd % heads != 0 {
            throw ConfigError(origin: nil, message: "model.n_embd (\(embd), from \(from(keys.nEmbd))) must be divisible by "
                              + "model.n_head (\(heads), from \(from(keys.nHead)))")
        }
    }
}

/// A section of the key table: a struct whose stored properties are `HostKey`s.
public protocol HostKeySection: Sendable {}

/// What the trainer does with a step whose loss or gradient is NaN or infinite.
public enum NonFinitePolicy: String, Sendable, CaseIterable, HostKeyChoice {
    /// Stop: checkpoint the last good state and end with an error naming the step and the tensor.
    case stop
    /// Drop the step (no update) and go on; stop after `train.max_skipped_steps` in a row.
    case skip
    /// Train on regardless, as if nothing happened (callbacks such as terminate_on_nan may still
    /// stop the run); the weights may become NaN.
    case ignore
}

/// Whether a metric is better when lower or higher.
public enum MetricGoal: String, Sendable, CaseIterable, HostKeyChoice {
    /// Lower is better (a loss).
    case min
    /// Higher is better (an accuracy).
    case max
}
