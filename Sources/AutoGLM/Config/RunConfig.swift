import Foundation

/// The resolved, validated run configuration (see `ConfigLoader` for how it is layered).
public struct RunConfig: Sendable, Equatable {
    /// `data.*`.
    public var data: DataConfig
    /// `model.*`.
    public var model: ModelConfig
    /// `train.*`.
    public var train: TrainConfig
    /// `run.*`.
    public var run: RunDirConfig
    /// `attention.name` and the attention component's parameters (`attention.<param>`).
    public var attention: ComponentSelection
    /// `optimizer.name` and the optimizer's own parameters (`optimizer.<param>`).
    public var optimizer: ComponentSelection
    /// `optimizer.lr`: the peak learning rate of the schedule (host-owned for every optimizer,
    /// so not among `optimizer.parameters`).
    public var lr: Double
    /// `evaluators`, in order, each with its parameters (`params.<name>.<param>`).
    public var evaluators: [ComponentSelection]
    /// `callbacks`, in order, each with its parameters (`params.<name>.<param>`).
    public var callbacks: [ComponentSelection]
    /// `plugins.paths`: extra plugin directories.
    public var pluginPaths: [String]

    /// Creates a configuration (defaults: the built-in recipe; component parameters are empty
    /// unless given, since only a schema can complete them).
    public init(data: DataConfig = DataConfig(), model: ModelConfig = ModelConfig(),
                train: TrainConfig = TrainConfig(), run: RunDirConfig = RunDirConfig(),
                attention: ComponentSelection = ComponentSelection(kind: .attention, name: "flash"),
                optimizer: ComponentSelection = ComponentSelection(kind: .optimizer, name: "adamw"),
                lr: Double = 1.0e-3,
                evaluators: [ComponentSelection] = [ComponentSelection(kind: .evaluator, name: "perplexity")],
                callbacks: [ComponentSelection] = [], pluginPaths: [String] = []) {
        self.data = data; self.model = model; self.train = train; self.run = run
        self.attention = attention; self.optimizer = optimizer; self.lr = lr
        self.evaluators = evaluators; self.callbacks = callbacks; self.pluginPaths = pluginPaths
    }

    /// The learning-rate schedule the config describes: warmup to `lr`, then decay to
    /// `train.minLR` over `train.steps`.
    public var learningRateSchedule: LearningRateSchedule {
        LearningRateSchedule(peak: lr, minLR: train.minLR, warmup: train.warmupSteps, total: train.steps,
                             shape: train.lrSchedule)
    }
}
