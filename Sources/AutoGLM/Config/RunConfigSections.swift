import Foundation

/// `data.*`: the training text.
public struct DataConfig: Sendable, Equatable {
    /// `data.path`: a text file, or a directory whose regular files (sorted, skipping `*.dat`,
    /// `*.u8` and binary files) are concatenated.
    public var path: String
    /// `data.val_fraction`: share of the text held out for validation, in (0, 0.5].
    public var valFraction: Double

    /// Creates the section; the defaults are the built-in recipe.
    public init(path: String = "/usr/share/games/fortunes", valFraction: Double = 0.1) {
        self.path = path; self.valFraction = valFraction
    }
}

/// `model.*`: the GPT's shape.
public struct ModelConfig: Sendable, Equatable {
    /// `model.n_layer`: transformer blocks (>= 1).
    public var nLayer: Int
    /// `model.n_head`: attention heads (>= 1, divides `nEmbd`).
    public var nHead: Int
    /// `model.n_embd`: width of the residual stream (>= 1).
    public var nEmbd: Int
    /// `model.block_size`: context length (>= 1).
    public var blockSize: Int
    /// `model.position_embedding`: learned absolute position embeddings (false for ALiBi-style
    /// attention).
    public var positionEmbedding: Bool

    /// Creates the section; the defaults are nanoGPT's Shakespeare-char CPU recipe.
    public init(nLayer: Int = 4, nHead: Int = 4, nEmbd: Int = 128, blockSize: Int = 64,
                positionEmbedding: Bool = true) {
        self.nLayer = nLayer; self.nHead = nHead; self.nEmbd = nEmbd; self.blockSize = blockSize
        self.positionEmbedding = positionEmbedding
    }
}

/// `train.*`: the training loop.
public struct TrainConfig: Sendable, Equatable {
    /// `train.steps`: optimizer steps (>= 1).
    public var steps: Int
    /// `train.batch_size`: sequences per micro-batch (>= 1).
    public var batchSize: Int
    /// `train.accumulation_steps`: micro-batches per optimizer step (>= 1).
    public var accumulationSteps: Int
    /// `train.warmup_steps`: linear warmup steps (>= 0).
    public var warmupSteps: Int
    /// `train.min_lr`: learning rate at the end of the decay (>= 0).
    public var minLR: Double
    /// `train.lr_schedule`: decay shape after warmup (cosine | linear | constant).
    public var lrSchedule: LearningRateSchedule.Shape
    /// `train.grad_clip`: global gradient-norm clip (0 disables).
    public var gradClip: Double
    /// `train.eval_interval`: steps between evaluations (0: only after the last step).
    public var evalInterval: Int
    /// `train.eval_batches`: batches per evaluation (>= 1).
    public var evalBatches: Int
    /// `train.log_interval`: steps between log lines (>= 1).
    public var logInterval: Int
    /// `train.seed`: random seed (>= 0).
    public var seed: Int
    /// `train.threads`: worker threads (>= 1).
    public var threads: Int

    /// Creates the section; the defaults are nanoGPT's Shakespeare-char CPU recipe.
    public init(steps: Int = 2000, batchSize: Int = 12, accumulationSteps: Int = 1, warmupSteps: Int = 100,
                minLR: Double = 1.0e-4, lrSchedule: LearningRateSchedule.Shape = .cosine, gradClip: Double = 1.0,
                evalInterval: Int = 250, evalBatches: Int = 200, logInterval: Int = 10, seed: Int = 1337,
                threads: Int = 2) {
        self.steps = steps; self.batchSize = batchSize; self.accumulationSteps = accumulationSteps
        self.warmupSteps = warmupSteps; self.minLR = minLR; self.lrSchedule = lrSchedule
        self.gradClip = gradClip; self.evalInterval = evalInterval; self.evalBatches = evalBatches
        self.logInterval = logInterval; self.seed = seed; self.threads = threads
    }
}

/// `run.*`: where the run's outputs go.
public struct RunDirConfig: Sendable, Equatable {
    /// `run.dir`: the run directory (log, checkpoints).
    public var dir: String

    /// Creates the section.
    public init(dir: String = "runs/latest") { self.dir = dir }
}
