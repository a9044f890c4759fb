import AutoGLMCore
import Foundation

/// One training run, built and owned in one place: the resolved configuration, the plugin
/// registry (with any components the program registered itself), the tokenizer and data, the
/// model, the optimizer, evaluators and callbacks, the trainer's state and the run directory.
/// Every front end goes through it: `autoglm train`/`sample`/`bench`, the C API
/// (`include/autoglm/autoglm.h`), the tests.
///
/// Threading: a session is used by one thread at a time (a call while another thread is inside
/// the session fails with `SessionError.busy`); `requestStop()` is the exception, callable from
/// any thread. Several sessions may run on several threads at once: each has its own worker pool
/// and plugin instances, and gives bit-identical results to the same session run alone (see
/// ARCHITECTURE.md for what is shared and why that is safe).
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
    /// Set by `requestStop`, read by the trainer after each step.
    private let stop = StopFlag()

    /// A session as `options` describe: loads the config layers, the plugins on the search path
    /// (`options.pluginDirectories`, `AUTOGLM_PLUGIN_PATH`, the config's `plugins.paths`, the
    /// bundled ones), the program's own components, resolves and validates the config against
    /// them, reads the data and builds the run — or, with `options.resume`, continues the run of a
    /// checkpoint exactly where it was.
    /// - Throws: `ConfigError` (naming the key and its source; with the plugins that failed to
    ///   load, when a component is missing), `DataError`, `PluginError`, `CheckpointError` (a
    ///   checkpoint that is damaged or differs from the config, listing the differences).
    public convenience init(_ options: SessionOptions) throws {
        let (resolved, registry) = try options.resolve()
        var parallel = DataParallel.single
        if case .none = options.data {} else { parallel = try DataParallel.start(environment: options.launchEnvironment, config: resolved.config) }
        let checkpointURL = try options.resumedCheckpoint()
        let checkpoint = try checkpointURL.map(Checkpoint.read)
        var mode: RunDirectory.Mode
        switch (checkpoint, options.data) {
        case (_, .none): mode = .readOnly
        case (let checkpoint?, _): mode = .resume(step: checkpoint.manifest.trainer.step)
        case (nil, _): mode = .create(overwrite: options.overwrite)
        }
        if !parallel.isRoot { mode = .readOnly }  // rank 0 alone writes the run directory
        try self.init(resolved: resolved, registry: registry, data: options.data, mode: mode, log: options.log,
                      progress: options.progress, tokenizer: checkpoint?.tokenizer)
        trainer.parallel = parallel
        if let checkpoint, let checkpointURL {
            try load(checkpoint, from: checkpointURL, allowConfigChange: options.allowConfigChange)
        }
        try scope { try parallel.broadcast(model.parameters + trainer.optimizer.stateTensors.map(\.tensor)) }
    }

    /// A session for a configuration built in code: validated like one read from a file (every
    /// value against its key or its component's schema; missing component parameters get their
    /// defaults).
    public convenience init(config: RunConfig, registry: PluginRegistry, data: SessionData = .configured,
                            schema: ConfigSchema = .host, overwrite: Bool = false) throws {
        let resolved = try ConfigResolver.validate(config, schema: schema, schemas: registry, source: .described(nil))
        try self.init(resolved: resolved, registry: registry, data: data, mode: .create(overwrite: overwrite), log: nil,
                      progress: nil, tokenizer: nil)
    }

    /// Builds the run of a resolved configuration; `tokenizer` is a checkpoint's (the data must
    /// then have the same vocabulary).
    private init(resolved: ResolvedConfig, registry: PluginRegistry, data: SessionData, mode: RunDirectory.Mode,
                 log: HostLog.Sink?, progress: ((TrainingProgress) -> TrainingProgress.Reply)?,
                 tokenizer saved: CharTokenizer?) throws {
        self.resolved = resolved
        self.registry = registry
        self.log = log
        self.progress = progress
        let pool = WorkerPool(threads: resolved.config.train.threads)
        pool.path = KernelReport.path(resolved.config)   // issue #18: the session's kernel path (run.isa)
        self.pool = pool
        let trainer = try pool.run {
            try HostLog.with(log) {
                try Self.build(resolved, registry: registry, data: data, mode: mode, tokenizer: saved, progress: progress)
            }
        }
        self.trainer = trainer
        tokenizer = trainer.tokenizer
        model = trainer.model
        trainer.progress = Self.forward(progress)
        trainer.stopRequested = { [stop] in stop.isSet }
    }

    /// Reads the data (telling `progress` how reading and tokenizing go) and creates the model,
    /// the components and the run directory.
    private static func build(_ resolved: ResolvedConfig, registry: PluginRegistry, data: SessionData,
                              mode: RunDirectory.Mode, tokenizer saved: CharTokenizer?,
                              progress: ((TrainingProgress) -> TrainingProgress.Reply)?) throws -> Trainer {
        let config = resolved.config
        let (dataset, tokenizer) = try load(data, config: config, saved: saved, progress: progress)
        let shape = GPTConfig(config, vocabSize: tokenizer.count)
        if let refusal = MemoryEstimate(model: shape, batch: config.train.batchSize).refusal() {
            throw ConfigError(origin: nil, message: refusal)
        }
        let model = try GPT(config: shape, attention: config.attention,
                            registry: registry, seed: UInt64(config.train.seed))
        model.activationCheckpointing = config.train.activationCheckpointing   // issue #18
        // issue #18: the kernel path, at info level only where bf16 has something to say
        HostLog.emit(config.train.precision == .bf16 ? .info : .debug, KernelReport.describe(config))
        let optimizer = try OptimizerInstance(registry: registry, name: config.optimizer.name,
                                              parameters: config.optimizer.parameters, modelParameters: model.parameters,
                                              roles: model.parameterRoles)
        let evaluators = try config.evaluators.map {
            try EvaluatorInstance(registry: registry, name: $0.name, parameters: $0.parameters)
        }
        let callbacks = try config.callbacks.map {
            try CallbackInstance(registry: registry, name: $0.name, parameters: $0.parameters)
        }
        let hooks = try TrainerHooks.bind(resolved, registry: registry)  // refused before the run directory is touched
        let now = RunRecord.timestamp()
        let record = RunRecord(status: .running, step: 0, maxSteps: config.train.steps, attention: config.attention.name,
                               optimizer: config.optimizer.name, pluginPaths: pluginFolders(registry),
                               startedAt: now, updatedAt: now, pid: getpid(),
                               isa: KernelReport.path(config).name)   // issue #18
        let runDirectory = try RunDirectory(path: config.run.dir, mode: mode, record: record)
        if case .create = mode {
            try runDirectory.save(tokenizer: tokenizer)
            runDirectory.appendLog(json: resolved.jsonObject)
        }
        return Trainer(resolved: resolved, model: model, optimizer: optimizer, evaluators: evaluators, callbacks: callbacks,
                       dataset: dataset, tokenizer: tokenizer, runDirectory: runDirectory, hooks: hooks,
                       state: TrainerState(config: config), progress: forward(nil))
    }

    /// The folders of the plugins the run loaded, but the bundled one (where `sample` must look).
    private static func pluginFolders(_ registry: PluginRegistry) -> [String] {
        var folders: [String] = []
        for library in registry.libraries {
            let folder = (library.file as NSString).deletingLastPathComponent
            if folder != PluginSearchPath.bundledDirectory, !folders.contains(folder) { folders.append(folder) }
        }
        return folders
    }

    /// The tokens and tokenizer of `data` (with a checkpoint's `saved` tokenizer, which the data
    /// must match).
    private static func load(_ data: SessionData, config: RunConfig, saved: CharTokenizer?,
                             progress: ((TrainingProgress) -> TrainingProgress.Reply)?) throws -> (TokenDataset, CharTokenizer) {
        switch data {
        case .none:
            guard let saved else { throw DataError(message: "a session without data samples a checkpoint: give one to resume") }
            return (TokenDataset.empty, saved)
        case .tokens(let tokens, let given):
            return (tokens, given)
        case .configured, .text:
            let text: String
            if case .text(let given) = data { text = given } else {
                text = try Corpus.load(path: config.data.path) { _ = progress?(.loading(.readingData(bytes: $0, of: $1))) }
            }
            let (tokenizer, ids) = try CharTokenizer.tokenize(text) { _ = progress?(.loading(.tokenizing(done: $0, of: $1))) }
            if let saved, saved != tokenizer {
                throw DataError(message: "data.path: the text's characters differ from the checkpoint's vocabulary (\(tokenizer.count) vs \(saved.count) characters): resume with the corpus the run was trained on")
            }
            var source = "the text given"
            if case .configured = data { source = "data.path: '\(config.data.path)'" }
            if tokenizer.count == 1 {
                HostLog.emit(.warning, "\(source) holds one distinct character: every target is predictable, the loss falls to 0 and the model learns nothing useful")
            }
            do {
                let dataset = try TokenDataset(tokens: ids, valFraction: config.data.valFraction, blockSize: config.model.blockSize)
                return (dataset, tokenizer)
            } catch let error as DataError {
                throw DataError(message: "\(source): \(error.message)")
            }
        }
    }

    /// The resolved configuration.
    public var config: RunConfig { resolved.config }
    /// "MPI rank R of N" when `mpirun` started this data-parallel session, nil for one process.
    public var parallelism: String? { trainer.parallel.label }
    /// Whether this session writes the run directory and reports progress: one process, or
    /// rank 0 of an MPI job.
    public var isRootRank: Bool { trainer.parallel.isRoot }
    /// Everything about the training that changes from step to step.
    public var state: TrainerState { trainer.state }
    /// The run directory.
    public var runDirectory: URL { trainer.runDirectory.url }
    /// Training and validation tokens.
    public var dataset: TokenDataset { trainer.dataset }

    /// Trains `steps` more optimizer steps (nil: up to `train.steps`), or until a callback, the
    /// progress receiver or `requestStop` ends it; can be called again to continue. Checkpoints
    /// as `Trainer` describes, always at the end.
    /// - Throws: `TrainingStopped` (a non-finite step) or `TrainingFailed` (a plugin's or the
    ///   host's error), after checkpointing the last good state.
    public func train(steps: Int? = nil) throws -> TrainingResult {
        try scope {
            defer { stop.clear() }  // honoured (or, when it came between calls, by this call's first step)
            return try trainer.train(steps: steps ?? max(config.train.steps - trainer.state.step, 0))
        }
    }

    /// Asks a running `train` to stop after the current step (it then checkpoints and returns).
    /// Callable from any thread, also from a signal handler's dispatch source.
    public func requestStop() { stop.set() }

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

    /// Evaluates the whole `split` of `text` (nil: the run's corpus, `data.path`) in
    /// consecutive blocks (`ConsecutiveBlocks`), not random batches: the mean loss over every
    /// target and every evaluator's metrics over all of them. Deterministic: the same model and
    /// text give the same numbers. Uses the trainer's evaluation loop (progress as `.evaluating`).
    /// - Throws: `DataError` naming the text (unreadable, characters outside the vocabulary, a
    ///   split of fewer than two tokens), or an evaluator's `PluginError`.
    public func evaluate(split: EvaluationSplit, text: (content: String, source: String)? = nil) throws -> SplitEvaluation {
        try scope {
            let (tokens, source) = try SplitEvaluation.tokens(split, text: text, config: config, tokenizer: tokenizer)
            let blocks = ConsecutiveBlocks(tokens: tokens, blockSize: model.config.blockSize, batchSize: config.train.batchSize)
            let metrics = try trainer.evaluate(batches: blocks.batches, prefix: "", batch: blocks.batch)
            return SplitEvaluation(split: split, source: source, step: trainer.state.step, tokens: tokens.count,
                                   targets: blocks.targets, blocks: blocks.blocks, metrics: metrics)
        }
    }

    /// `sample(prompt:…)` token by token: each new token with its id and its log-probability
    /// under the model (`SampledToken`); `onToken` receives each as it is made and may return
    /// false to stop early.
    /// - Throws: `DataError` for a prompt with characters outside the vocabulary.
    public func sampleTokens(prompt: String, tokens: Int, temperature: Double = 0.8, topK: Int = 0, seed: UInt64 = 1337,
                             onToken: ((SampledToken) -> Bool)? = nil) throws -> [SampledToken] {
        try scope {
            try Sampler.tokens(model: model, tokenizer: tokenizer, prompt: prompt, count: tokens, temperature: temperature,
                               topK: topK, seed: seed, onToken: onToken)
        }
    }

    /// The model's logits for `text` in one forward pass: its ids and, per position i, the
    /// `vocabulary` logits of the character after the first i + 1.
    /// - Throws: `DataError` for an empty text, one longer than `model.block_size`, or one with
    ///   characters outside the vocabulary.
    public func logits(of text: String) throws -> (ids: [Int32], logits: [[Float]]) {
        try scope {
            let ids = try tokenizer.encode(text)
            guard !ids.isEmpty, ids.count <= model.config.blockSize else {
                throw DataError(message: "the input has \(ids.count) characters: give 1 to \(model.config.blockSize) (the model's block_size)")
            }
            let vocab = model.config.vocabSize
            let logits = try Autograd.withNoGrad { try model.logits(ids: ids, batch: 1, seq: ids.count) }
            return (ids, (0..<ids.count).map { Array(UnsafeBufferPointer(start: logits.data + $0 * vocab, count: vocab)) })
        }
    }

    /// The parameter named `name` (e.g. `blocks.0.attn.qkv.weight`), if the model has it.
    public func parameter(named name: String) -> Tensor? { model.parameters.first { $0.name == name } }

    /// Writes the whole training state as a checkpoint directory at `url` (replacing one there).
    /// Under MPI rank 0 alone writes (the ranks hold the same state); the others return at once.
    public func save(to url: URL) throws {
        try scope {
            guard isRootRank else { return }
            try trainer.snapshot().write(to: url)
        }
    }

    /// Puts the training state of the checkpoint directory `url` into this session, so training
    /// continues exactly from it. The checkpoint must be of this config and these components:
    /// every difference is listed and refused, unless `allowConfigChange` (then they are logged).
    /// - Throws: `CheckpointError`.
    public func load(from url: URL, allowConfigChange: Bool = false) throws {
        let checkpoint = try Checkpoint.read(from: url)
        try load(checkpoint, from: url, allowConfigChange: allowConfigChange)
    }

    /// `load(from:allowConfigChange:)` for a checkpoint already read.
    private func load(_ checkpoint: Checkpoint, from url: URL, allowConfigChange: Bool) throws {
        try scope {
            let differences = try Self.differences(resolved, checkpoint, registry: registry, trainer: trainer)
            if !differences.isEmpty {
                let list = differences.map { "  \($0)" }.joined(separator: "\n")
                guard allowConfigChange else {
                    throw CheckpointError(message: "\(url.path): the checkpoint differs from this run:\n\(list)\nresume with the same config and plugins, or pass --allow-config-change to accept the differences")
                }
                HostLog.emit(.warning, "resuming \(url.path) with differences:\n\(list)")
            }
            try trainer.restore(checkpoint, allowComponentChanges: allowConfigChange)
            trainer.runDirectory.appendLog(["kind": "resume", "step": checkpoint.manifest.trainer.step,
                                            "checkpoint": url.path, "differences": differences])
        }
    }

    /// How this run's config and components differ from the checkpoint's, one line each.
    private static func differences(_ resolved: ResolvedConfig, _ checkpoint: Checkpoint, registry: PluginRegistry,
                                    trainer: Trainer) throws -> [String] {
        let saved = try ConfigLoader.load(text: checkpoint.configJSON, label: "checkpoint config.json", environment: [:],
                                          overrides: [], schema: .host).resolve(schemas: registry)
        var lines: [String] = []
        let now = Dictionary(resolved.entries.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let then = Dictionary(saved.entries.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for key in Set(now.keys).union(then.keys).sorted() where key != HostKeys.table.run.dir.name {
            let a = then[key]?.value, b = now[key]?.value
            if a != b { lines.append("\(key): \(a ?? "(unset)") in the checkpoint, \(b ?? "(unset)") now") }
        }
        let current = try trainer.snapshot().manifest.components
        for (old, new) in zip(checkpoint.manifest.components, current) where old.name == new.name && old.version != new.version {
            lines.append("\(new.kind) '\(new.name)' (\(new.instance)): version \(old.version) in the checkpoint, \(new.version) now (\(new.file))")
        }
        return lines
    }

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

/// A flag set from any thread.
private final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    /// Whether it is set.
    var isSet: Bool { lock.withLock { value } }
    /// Sets it.
    func set() { lock.withLock { value = true } }
    /// Clears it.
    func clear() { lock.withLock { value = false } }
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
