import Foundation

/// Everything the trainer needs, resolved from the config.
public struct TrainingOptions: Sendable {
    /// Model shape; `vocabSize` is replaced by the tokenizer's.
    public var model: GPTConfig
    /// Attention component.
    public var attention: ComponentSelection
    /// Optimizer component.
    public var optimizer: ComponentSelection
    /// Peak learning rate.
    public var lr: Double
    /// Evaluator components.
    public var evaluators: [ComponentSelection] = []
    /// Callback components.
    public var callbacks: [ComponentSelection] = []
    /// Optimizer steps.
    public var steps: Int
    /// Sequences per optimizer step (split across accumulation micro-batches).
    public var batchSize: Int
    /// Micro-batches per optimizer step.
    public var accumulationSteps = 1
    /// The learning-rate schedule's shape.
    public var schedule: LearningRateSchedule.Shape = .cosine
    /// Warmup steps.
    public var warmupSteps: Int
    /// Final learning rate.
    public var minLR: Double
    /// Gradient clipping threshold on the global norm (0 disables).
    public var gradClip: Double
    /// Steps between evaluations (0 = only at the end).
    public var evalInterval: Int
    /// Validation batches per evaluation.
    public var evalBatches: Int
    /// Steps between log records.
    public var logInterval: Int
    /// Seed of initialisation and batch sampling.
    public var seed: UInt64
    /// Worker threads for GEMM and kernels.
    public var threads: Int
    /// The run's folder.
    public var runDir: String
    /// The resolved config as one JSON object (the log's first record).
    public var resolvedConfigJSON: String = "{}"

    /// Creates options.
    public init(model: GPTConfig, attention: ComponentSelection, optimizer: ComponentSelection, lr: Double, steps: Int,
                batchSize: Int, warmupSteps: Int, minLR: Double, gradClip: Double, evalInterval: Int, evalBatches: Int,
                logInterval: Int, seed: UInt64, threads: Int, runDir: String) {
        self.model = model; self.attention = attention; self.optimizer = optimizer; self.lr = lr; self.steps = steps
        self.batchSize = batchSize; self.warmupSteps = warmupSteps; self.minLR = minLR; self.gradClip = gradClip
        self.evalInterval = evalInterval; self.evalBatches = evalBatches; self.logInterval = logInterval
        self.seed = seed; self.threads = threads; self.runDir = runDir
    }
}
