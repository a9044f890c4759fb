import AutoGLMCore
import Foundation

/// One training run, built and owned in one place: the resolved configuration, the plugin
/// registry (with any components the program registered itself), the tokenizer and data, the
/// model, the optimizer, evaluators and callbacks, the trainer's state and the run directory.
/// Every front end goes through it: `autoglm train`/`sample`/`bench`, the C API
/// (`include/autoglm/autoglm.h`), the tests.
///
/// Threading: a session is used by one thread at a time (a call while another thread is inside
/// the session fails with `SessionError.busy`). Several sessions may run on several threads at
/// once: each has its own worker pool and plugin instances, and gives bit-identical results to
/// the same session run alone (see ARCHITECTURE.md for what is shared and why that is safe).
public final class Session {
    /// The resolved configuration with the source of every value.
    public let resolved: ResolvedConfig
    /// The plugin components this session can use.
    public let registry: PluginRegistry
    /// The run's tokenizer.
    public let tokenizer: CharTokenizer
    /// The model.
    public let model: GPT
    /// Receives every step and evaluation; returning `.stop` ends training after that step.
    public var progress: ((TrainingProgress) -> TrainingProgress.Reply)? {
        didSet { trainer.progress = Self.forward(progress) }
    }
    /// Receives the host's and the plugins' log lines while the session runs (nil: swift-log).
    public var log: HostLog.Sink?

    /// Runs this session's kernels.
    private let pool: WorkerPool
    /// The training loop and its state.
    private let trainer: Trainer
    /// Held by the thread inside the session.
    private let busy = NSLock()

    /// A session as `options` describe: loads the config layers, the plugins on the search path
    /// (`options.pluginDirectories`, `AUTOGLM_PLUGIN_PATH`, the config's `plugins.paths`, the
    /// bundled ones), the program's own components, resolves and validates the config against
    /// them, reads the data and builds the run.
    /// - Throws: `ConfigError` (naming the key and its source; with the plugins that failed to
    ///   load, when a component is missing), `DataError`, `PluginError`.
    public convenience init(_ options: SessionOptions) throws {
        let (resolved, registry) = try options.resolve()
        try self.init(resolved: resolved, registry: registry, data: options.data, log: options.log,
                      progress: options.progress)
    }

    /// A session for a configuration built in code: validated like one read from a file (every
    /// value against its key or its component's schema; missing component parameters get their
    /// defaults).
    public convenience init(config: RunConfig, registry: PluginRegistry, data: SessionData = .configured,
                            schema: ConfigSchema = .host) throws {
        let resolved = try ConfigResolver.validate(config, schema: schema, schemas: registry, source: .described(nil))
        try self.init(resolved: resolved, registry: registry, data: data, log: nil, progress: nil)
    }

    /// Builds the run of a resolved configuration.
    private init(resolved: ResolvedConfig, registry: PluginRegistry, data: SessionData, log: HostLog.Sink?,
                 progress: ((TrainingProgress) -> TrainingProgress.Reply)?) throws {
        let config = resolved.config
        self.resolved = resolved
        self.registry = registry
        self.log = log
        self.progress = progress
        let pool = WorkerPool(threads: config.train.threads)
        pool.path = KernelReport.path(config)   // issue #18: the session's kernel path (run.isa)
        self.pool = pool
        let built = try pool.run {
            try HostLog.with(log) { try Self.build(config, resolved: resolved, registry: registry, data: data) }
        }
        tokenizer = built.tokenizer
        model = built.trainer.model
        trainer = built.trainer
        trainer.progress = Self.forward(progress)
    }

    /// Reads the data and creates the model, the components and the run directory.
    private static func build(_ config: RunConfig, resolved: ResolvedConfig, registry: PluginRegistry,
                              data: SessionData) throws -> (tokenizer: CharTokenizer, trainer: Trainer) {
        let tokenizer: CharTokenizer, dataset: TokenDataset
        switch data {
        case .tokens(let tokens, let given):
            (dataset, tokenizer) = (tokens, given)
        case .configured, .text:
            let text: String
            if case .text(let given) = data { text = given } else { text = try Corpus.load(path: config.data.path) }
            tokenizer = CharTokenizer(text: text)
            dataset = try TokenDataset(tokens: try tokenizer.encode(text), valFraction: config.data.valFraction,
                                       blockSize: config.model.blockSize)
        }
        let model = try GPT(config: GPTConfig(config, vocabSize: tokenizer.count), attention: config.attention,
                            registry: registry, seed: UInt64(config.train.seed))
        model.activationCheckpointing = config.train.activationCheckpointing   // issue #18
        HostLog.emit(.info, KernelReport.describe(config))                     // issue #18
        let optimizer = try OptimizerInstance(registry: registry, name: config.optimizer.name,
                                              parameters: config.optimizer.parameters, modelParameters: model.parameters)
        let evaluators = try config.evaluators.map {
            try EvaluatorInstance(registry: registry, name: $0.name, parameters: $0.parameters)
        }
        let callbacks = try config.callbacks.map {
            try CallbackInstance(registry: registry, name: $0.name, parameters: $0.parameters)
        }
        let runDirectory = try RunDirectory(path: config.run.dir)
        try runDirectory.save(tokenizer: tokenizer)
        runDirectory.appendLog(json: resolved.jsonObject)
        let trainer = Trainer(config: config, model: model, optimizer: optimizer, evaluators: evaluators,
                              callbacks: callbacks, dataset: dataset, runDirectory: runDirectory,
                              state: TrainerState(config: config), progress: forward(nil))
        return (tokenizer, trainer)
    }

    /// The resolved configuration.
    public var config: RunConfig { resolved.config }
    /// Everything about the training that changes from step to step.
    public var state: TrainerState { trainer.state }
    /// The run directory.
    public var runDirectory: URL { trainer.runDirectory.url }
    /// Training and validation tokens.
    public var dataset: TokenDataset { trainer.dataset }

    /// Trains `steps` more optimizer steps (nil: up to `train.steps`), or until a callback or
    /// the progress receiver stops it; can be called again to continue.
    public func train(steps: Int? = nil) throws -> TrainingResult {
        try scope { try trainer.train(steps: steps ?? max(config.train.steps - trainer.state.step, 0)) }
    }

    /// Evaluates now: mean validation loss over `train.eval_batches` batches and every
    /// evaluator's metrics.
    public func evaluate() throws -> [Metric] {
        try scope { try trainer.evaluate() }
    }

    /// Continues `prompt` by `tokens` characters, each sampled from the softmax of the logits /
    /// `temperature` over the `topK` most likely (0: all), from a generator seeded with `seed`.
    /// `onText` receives each new character as it is made and may return false to stop early.
    /// - Throws: `DataError` for a prompt with characters outside the vocabulary.
    public func sample(prompt: String, tokens: Int, temperature: Double = 0.8, topK: Int = 0, seed: UInt64 = 1337,
                       onText: ((String) -> Bool)? = nil) throws -> String {
        try scope {
            try Sampler.generate(model: model, tokenizer: tokenizer, prompt: prompt, count: tokens,
                                 temperature: temperature, topK: topK, seed: seed, onText: onText)
        }
    }

    /// The parameter named `name` (e.g. `blocks.0.attn.qkv.weight`), if the model has it.
    public func parameter(named name: String) -> Tensor? { model.parameters.first { $0.name == name } }

    /// Runs `body` as this session: on its worker pool, with its log sink, refusing a second
    /// thread.
    private func scope<T>(_ body: () throws -> T) throws -> T {
        guard busy.try() else { throw SessionError.busy }
        defer { busy.unlock() }
        // issue #18: GEMM operands in the configured precision (train.precision)
        return try pool.run { try HostLog.with(log) { try Autocast.with(config.train.precision) { try body() } } }
    }

    /// The trainer's progress receiver for an optional handler.
    private static func forward(_ handler: ((TrainingProgress) -> TrainingProgress.Reply)?)
        -> (TrainingProgress) -> TrainingProgress.Reply {
        handler ?? { _ in .proceed }
    }
}

/// A session used in a way it does not allow.
public enum SessionError: Error, CustomStringConvertible, Sendable {
    /// Another thread is inside the session.
    case busy

    /// What went wrong and what to do.
    public var description: String {
        switch self {
        case .busy: return "the session is in use by another thread: use one session from one thread at a time"
        }
    }
}
