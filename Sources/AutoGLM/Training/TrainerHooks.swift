import Foundation

/// The functions the trainer calls at every step, bound once before training from the hook keys
/// (`train.lr_schedule`, `train.grad_clip_schedule`, `train.accumulation_schedule`,
/// `train.weight_decay_schedule`): each to a C
/// function registered by prototype (the `lr_schedules` plugin's, another plugin's, the program's)
/// or bound from a shared library, with its arguments planned — every parameter is either one the
/// trainer supplies (below) or one the config gives in `args`.
///
/// Arguments the trainer supplies, by name (a function declares the ones it wants):
///
///     step            int     0-based index of the step the value is for
///     total_steps     int     train.steps
///     epoch           int     passes over the training tokens so far
///     tokens_seen     int     training tokens consumed before this step
///     base_lr         double  optimizer.lr
///   train.grad_clip_schedule also:
///     grad_norm       double  this step's global gradient norm, before clipping
///     base_grad_clip  double  train.grad_clip
///   train.accumulation_schedule also:
///     base_accumulation  int  train.accumulation_steps
///     batch_size         int  train.batch_size
struct TrainerHooks {
    /// What the trainer knows when it calls a hook.
    struct Inputs {
        var step: Int
        var totalSteps: Int
        var epoch: Int
        var tokensSeen: Int
        var baseLR: Double
        var gradNorm = Double.nan
        var baseGradClip: Double
        var baseAccumulation: Int
        var batchSize: Int

        /// The value of a trainer-supplied argument.
        func value(_ argument: String) -> Double {
            switch argument {
            case "step": return Double(step)
            case "total_steps": return Double(totalSteps)
            case "epoch": return Double(epoch)
            case "tokens_seen": return Double(tokensSeen)
            case "base_lr": return baseLR
            case "grad_norm": return gradNorm
            case "base_grad_clip": return baseGradClip
            case "base_accumulation": return Double(baseAccumulation)
            case "batch_size": return Double(batchSize)
            default: preconditionFailure("no trainer argument '\(argument)'")
            }
        }
    }

    /// The arguments every hook may declare, with whether they are integers.
    static let commonArguments: [(name: String, integer: Bool)] = [
        ("step", true), ("total_steps", true), ("epoch", true), ("tokens_seen", true), ("base_lr", false),
    ]

    /// The arguments of each hook key (common ones first).
    static func arguments(of key: String) -> [(name: String, integer: Bool)] {
        let keys = HostKeys.table.train
        switch key {
        case keys.gradClipSchedule.name: return commonArguments + [("grad_norm", false), ("base_grad_clip", false)]
        case keys.accumulationSchedule.name: return commonArguments + [("base_accumulation", true), ("batch_size", true)]
        default: return commonArguments
        }
    }

    /// The learning-rate schedule (always a function).
    let lr: Hook
    /// The clipping threshold, when a function gives it.
    let gradClip: Hook?
    /// The micro-batches, when a function gives them.
    let accumulation: Hook?
    /// The multiplier on the optimizer's weight decay, when a function gives it.
    let weightDecay: Hook?

    /// Binds every hook key of `resolved` against the functions of `registry`.
    /// - Throws: `ConfigError` naming the key (and where its value came from) for an unknown
    ///   function, a library or symbol that is not found, and a missing, extra or mistyped argument.
    static func bind(_ resolved: ResolvedConfig, registry: PluginRegistry) throws -> TrainerHooks {
        let train = HostKeys.table.train
        func hook(_ key: HostKey<HookBinding>) throws -> Hook? {
            try Hook.bind(key, resolved: resolved, registry: registry)
        }
        guard let lr = try hook(train.lrSchedule) else {
            throw ConfigError(origin: nil, message: "train.lr_schedule: a learning-rate schedule is a function; every shorthand of the key names one")
        }
        return TrainerHooks(lr: lr, gradClip: try hook(train.gradClipSchedule), accumulation: try hook(train.accumulationSchedule),
                            weightDecay: try hook(train.weightDecaySchedule))
    }

    /// The learning rate of the step `inputs` describe.
    /// - Throws: `TrainingStopped` for a non-finite or negative result.
    func learningRate(_ inputs: Inputs) throws -> Double {
        try lr.value(inputs) { $0 >= 0 ? nil : "a learning rate must be >= 0" }
    }

    /// The clipping threshold of the step (`train.grad_clip` without a function).
    func clip(_ inputs: Inputs) throws -> Double {
        try gradClip?.value(inputs) { $0 >= 0 ? nil : "a clipping threshold must be >= 0 (0 disables clipping)" }
            ?? inputs.baseGradClip
    }

    /// The multiplier on the optimizer's weight decay of the step (1 without a function).
    func weightDecayScale(_ inputs: Inputs) throws -> Double {
        try weightDecay?.value(inputs) { $0 >= 0 ? nil : "a weight decay multiplier must be >= 0" } ?? 1
    }

    /// The micro-batches of the step (nil without a function: the trainer's own value).
    func accumulationSteps(_ inputs: Inputs) throws -> Int? {
        try accumulation.map { hook in
            Int(try hook.value(inputs) { v in
                v == v.rounded() && v >= 1 && v <= Double(inputs.batchSize)
                    ? nil : "micro-batches must be a whole number in 1...train.batch_size (\(inputs.batchSize))"
            })
        }
    }
}

/// One hook: a bound function and how to build its arguments.
struct Hook {
    /// An argument of the call: the trainer's, or a constant from the config.
    enum Argument {
        /// A trainer-supplied value, converted to the parameter's type.
        case trainer(String, CType.Kind)
        /// A value the config gave.
        case constant(FunctionArgument)
    }

    /// The key it was bound from (`train.lr_schedule`).
    let key: String
    /// The function.
    let function: RegisteredFunction
    /// One argument per parameter, in order.
    let plan: [Argument]

    /// The hook of `key` in `resolved` (nil when its value is a shorthand without a function).
    static func bind(_ key: HostKey<HookBinding>, resolved: ResolvedConfig, registry: PluginRegistry) throws -> Hook? {
        let binding = resolved.config[key]
        func source(_ field: String) -> ConfigSource { resolved.entry(forKey: key.name + field)?.source ?? .default }
        var args = binding.args.mapValues { ($0, key.name + ".args.") }
        var function = binding.function, origin = source(".function")
        if let shorthand = binding.shorthand {
            guard case .hook(let shorthands) = key.role, let expansion = shorthands.first(where: { $0.name == shorthand }) else {
                return nil
            }
            guard let name = expansion.function else { return nil }
            function = name
            origin = source("")
            for (argument, fromKey) in expansion.argsFromKeys where args[argument] == nil {
                let text = resolved.entry(forKey: fromKey)?.value ?? ""
                args[argument] = (text, fromKey)
            }
        }
        let registered: RegisteredFunction
        if let library = binding.library {
            guard let prototype = binding.prototype else {
                throw source(".library").error(key: key.name + ".library", "a function from a library needs its prototype: add \(key.name).prototype, e.g. \"double fmin(double base_lr, double cap)\"")
            }
            do {
                registered = try registry.boundFunction(library: library, symbol: binding.symbol, prototype: prototype)
            } catch {
                throw source(".library").error(key: key.name + ".library", "\(error)")
            }
        } else {
            guard let name = function else {
                throw origin.error(key: key.name, "name the function: \(key.name).function (registered by a plugin) or \(key.name).library with .prototype")
            }
            guard let found = registry.function(named: name) else {
                let names = registry.allFunctions.map(\.name)
                throw origin.error(key: key.name, "no function named '\(name)'" + Suggestion.hint(for: name, in: names)
                                   + "; functions: " + (names.isEmpty ? "none (the lr_schedules plugin provides the schedules)" : names.joined(separator: ", ")))
            }
            registered = found
        }
        return try Hook(key: key.name, function: registered, args: args, resolved: resolved, origin: origin)
    }

    /// Plans the call of `function`: its parameters against the trainer's arguments and `args`
    /// (text by parameter name, with the key each came from).
    private init(key: String, function: RegisteredFunction, args: [String: (text: String, from: String)],
                 resolved: ResolvedConfig, origin: ConfigSource) throws {
        self.key = key
        self.function = function
        let prototype = function.binding.prototype
        let supplied = TrainerHooks.arguments(of: key)
        let suppliedNames = supplied.map(\.name)
        func source(_ argKey: String) -> ConfigSource { resolved.entry(forKey: argKey)?.source ?? origin }
        switch prototype.returnType.kind {
        case .double, .float, .signed, .unsigned: break
        default:
            throw origin.error(key: key, "\(function.info.name) returns \(prototype.returnType.spelling); a hook's function returns a number: \(prototype)")
        }
        for name in args.keys.sorted() where !prototype.parameters.contains(where: { $0.name == name }) {
            let (_, from) = args[name]!
            let argKey = from.hasSuffix(".args.") ? from + name : from
            if suppliedNames.contains(name) {
                throw source(argKey).error(key: argKey, "'\(name)' is supplied by the trainer; remove it (\(prototype))")
            }
            throw source(argKey).error(key: argKey, "\(function.info.name) has no parameter '\(name)'"
                                       + Suggestion.hint(for: name, in: prototype.parameters.map(\.name)) + " (\(prototype))")
        }
        var plan: [Argument] = []
        for parameter in prototype.parameters {
            if case .floatBuffer = parameter.type.kind {
                throw origin.error(key: key, "parameter '\(parameter.name)' is a buffer; a hook's parameters are numbers (\(prototype))")
            }
            if let trainer = supplied.first(where: { $0.name == parameter.name }) {
                if args[parameter.name] != nil {
                    let argKey = key + ".args." + parameter.name
                    throw source(argKey).error(key: argKey, "'\(parameter.name)' is supplied by the trainer; remove it (\(prototype))")
                }
                switch parameter.type.kind {
                case .signed, .unsigned:
                    guard trainer.integer else {
                        throw origin.error(key: key, "the trainer supplies '\(parameter.name)' as a double; declare it double (\(prototype))")
                    }
                case .float, .double: break
                default:
                    throw origin.error(key: key, "the trainer supplies '\(parameter.name)' as a number; declare it \(trainer.integer ? "int64_t" : "double") (\(prototype))")
                }
                plan.append(.trainer(parameter.name, parameter.type.kind))
            } else if let (text, from) = args[parameter.name] {
                let argKey = from.hasSuffix(".args.") ? from + parameter.name : from
                do {
                    let parsed = try FunctionTextArguments(["\(parameter.name)=\(text)"], prototype: prototype)
                    plan.append(.constant(parsed.values[parameter.name]!))
                } catch {
                    throw source(argKey).error(key: argKey, "\(error)")
                }
            } else {
                throw origin.error(key: key, "argument '\(parameter.name)' (\(parameter.type.spelling)) of \(function.info.name) is missing: give \(key).args.\(parameter.name) (the trainer supplies \(suppliedNames.joined(separator: ", "))) — \(prototype)")
            }
        }
        self.plan = plan
    }

    /// Calls the function for the step `inputs` describe; `check` returns why a finite result is
    /// out of range (nil: fine).
    /// - Throws: `TrainingStopped` naming the step, the call and its arguments.
    func value(_ inputs: TrainerHooks.Inputs, _ check: (Double) -> String?) throws -> Double {
        var arguments: [FunctionArgument] = []
        arguments.reserveCapacity(plan.count)
        for argument in plan {
            switch argument {
            case .constant(let value): arguments.append(value)
            case .trainer(let name, let kind):
                let v = inputs.value(name)
                switch kind {
                case .float: arguments.append(.float(Float(v)))
                case .double: arguments.append(.double(v))
                default: arguments.append(.int(Int64(v)))
                }
            }
        }
        let result = try function.binding.call(arguments).number ?? .nan
        let problem = result.isFinite ? check(result) : "the result is not finite"
        if let problem {
            let call = zip(function.binding.prototype.parameters, arguments).map { "\($0.name)=\(Self.text($1))" }.joined(separator: ", ")
            throw TrainingStopped(message: "step \(inputs.step + 1): \(key): \(function.info.name)(\(call)) returned \(result): \(problem); the last good state is checkpointed")
        }
        return result
    }

    /// An argument as it is shown in messages.
    private static func text(_ argument: FunctionArgument) -> String {
        switch argument {
        case .int(let v): return "\(v)"
        case .uint(let v): return "\(v)"
        case .float(let v): return "\(v)"
        case .double(let v): return "\(v)"
        case .bool(let v): return "\(v)"
        case .string(let s): return "\"\(s)\""
        case .buffer(let b): return "[\(b.count) floats]"
        }
    }
}
