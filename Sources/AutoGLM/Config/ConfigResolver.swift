import Foundation

/// Phase 2 of loading: reads every key through the layers, validates it, and records where it
/// came from.
struct ConfigResolver {
    /// The parsed layers.
    let layers: ConfigLayers
    /// Component schemas.
    let schemas: any ComponentSchemaSource
    /// Reads values through the layers.
    let reader: LayeredReader
    /// Resolved entries by key.
    private var entries: [String: ConfigEntry] = [:]
    /// Origins of resolved values by key.
    private var origins: [String: ValueOrigin] = [:]

    /// A resolver for `layers`.
    init(layers: ConfigLayers, schemas: any ComponentSchemaSource) {
        self.layers = layers
        self.schemas = schemas
        self.reader = LayeredReader(layers: layers.layers, overrides: layers.overridesByKey)
    }

    /// Resolves everything.
    mutating func resolve() throws -> ResolvedConfig {
        // Host sections were checked for unknown keys by `ConfigLoader.load`.
        let check = UnknownKeyCheck(layers: layers, schemas: schemas)

        let data = DataConfig(path: try nonEmptyString("data.path"), valFraction: try number("data.val_fraction"))
        let model = ModelConfig(nLayer: try int("model.n_layer"), nHead: try int("model.n_head"),
                                nEmbd: try int("model.n_embd"), blockSize: try int("model.block_size"),
                                positionEmbedding: try number("model.position_embedding") != 0)
        let train = TrainConfig(
            steps: try int("train.steps"), batchSize: try int("train.batch_size"),
            accumulationSteps: try int("train.accumulation_steps"), warmupSteps: try int("train.warmup_steps"),
            minLR: try number("train.min_lr"),
            lrSchedule: LearningRateSchedule.Shape(rawValue: try string("train.lr_schedule")) ?? .cosine,
            gradClip: try number("train.grad_clip"), evalInterval: try int("train.eval_interval"),
            evalBatches: try int("train.eval_batches"), logInterval: try int("train.log_interval"),
            seed: try int("train.seed"), threads: try int("train.threads"))
        let run = RunDirConfig(dir: try nonEmptyString("run.dir"))

        let attention = try component(.attention, nameKey: "attention.name", hostOwned: ["name"])
        let optimizer = try component(.optimizer, nameKey: "optimizer.name", hostOwned: ["name", "lr"])
        let lr = try number("optimizer.lr")
        let evaluators = try componentList(.evaluator, key: "evaluators")
        let callbacks = try componentList(.callback, key: "callbacks")
        let listed = evaluators + callbacks

        let selected = UnknownKeyCheck.Selected(attention: attention, optimizer: optimizer, listed: listed)
        let order = keyOrder(selected)
        try check.checkComponents(selected, knownKeys: order)

        let attentionParams = try parameters(of: attention, prefix: "attention.")
        let optimizerParams = try parameters(of: optimizer, prefix: "optimizer.")
        let evaluatorSelections = try evaluators.map {
            ComponentSelection(kind: .evaluator, name: $0.name, parameters: try parameters(of: $0, prefix: "params.\($0.name)."))
        }
        let callbackSelections = try callbacks.map {
            ComponentSelection(kind: .callback, name: $0.name, parameters: try parameters(of: $0, prefix: "params.\($0.name)."))
        }
        let pluginPaths = try stringList("plugins.paths")

        try checkConsistency(model)

        let config = RunConfig(
            data: data, model: model, train: train, run: run,
            attention: ComponentSelection(kind: .attention, name: attention.name, parameters: attentionParams),
            optimizer: ComponentSelection(kind: .optimizer, name: optimizer.name, parameters: optimizerParams),
            lr: lr, evaluators: evaluatorSelections, callbacks: callbackSelections, pluginPaths: pluginPaths)
        return ResolvedConfig(config: config, entries: order.compactMap { entries[$0] })
    }

    // MARK: Host keys

    /// Reads and validates a scalar host key.
    private mutating func hostValue(_ key: String) throws -> ParameterValue {
        guard let host = HostKeys.byKey[key], case .parameter(let spec, let exclusive) = host.type else {
            preconditionFailure("\(key) is not a scalar host key")
        }
        let (raw, origin) = try reader.lookup(key, list: false) ?? (.scalar(spec.displayText(spec.defaultValue)), .builtIn)
        let value = try spec.validate(raw, key: key, origin: origin, exclusiveMinimum: exclusive)
        record(key, text: spec.displayText(value), json: spec.jsonText(value), origin: origin)
        return value
    }

    private mutating func number(_ key: String) throws -> Double {
        guard case .number(let d) = try hostValue(key) else { preconditionFailure("\(key) is not a number") }
        return d
    }

    private mutating func int(_ key: String) throws -> Int { Int(try number(key)) }

    private mutating func string(_ key: String) throws -> String {
        guard case .string(let s) = try hostValue(key) else { preconditionFailure("\(key) is not a string") }
        return s
    }

    private mutating func nonEmptyString(_ key: String) throws -> String {
        let s = try string(key)
        if s.trimmingCharacters(in: .whitespaces).isEmpty { throw origins[key]!.error("\(key) must not be empty") }
        return s
    }

    /// Reads a list-of-names host key (items trimmed, empty ones dropped).
    private mutating func stringList(_ key: String) throws -> [String] {
        guard let host = HostKeys.byKey[key], case .stringList(let fallback) = host.type else {
            preconditionFailure("\(key) is not a list host key")
        }
        let (raw, origin) = try reader.lookup(key, list: true) ?? (.list(fallback), .builtIn)
        let items = raw.items
        record(key, text: "[" + items.joined(separator: ", ") + "]", json: JSONText.strings(items), origin: origin)
        return items
    }

    // MARK: Components

    /// Reads `nameKey` and looks the component up.
    private mutating func component(_ kind: ComponentKind, nameKey: String, hostOwned: [String]) throws
        -> ComponentSchema {
        let name = try string(nameKey)
        let schema = try lookUp(kind, name: name, key: nameKey)
        try checkDeclaredNames(schema, reserved: hostOwned)
        return schema
    }

    /// Reads a list of component names and looks each up.
    private mutating func componentList(_ kind: ComponentKind, key: String) throws -> [ComponentSchema] {
        let names = try stringList(key)
        var schemas: [ComponentSchema] = []
        for (index, name) in names.enumerated() {
            if names[..<index].contains(name) { throw origins[key]!.error(key: key, "'\(name)' is listed twice") }
            let schema = try lookUp(kind, name: name, key: key)
            try checkDeclaredNames(schema, reserved: [])
            schemas.append(schema)
        }
        return schemas
    }

    /// The schema of `name`, or an error listing the available components.
    private func lookUp(_ kind: ComponentKind, name: String, key: String) throws -> ComponentSchema {
        if let schema = schemas.schema(kind: kind, name: name) { return schema }
        let available = schemas.names(kind: kind).sorted()
        throw origins[key]!.error(key: key, "no \(kind.rawValue) component named '\(name)'"
                                  + Suggestion.hint(for: name, in: available)
                                  + "; available: " + (available.isEmpty ? "none" : available.joined(separator: ", ")))
    }

    /// A component's parameters must be addressable as config keys and not shadow host keys.
    private func checkDeclaredNames(_ schema: ComponentSchema, reserved: [String]) throws {
        for spec in schema.parameters {
            if reserved.contains(spec.name) {
                throw ConfigError(origin: nil, message: "\(schema.kind.rawValue) '\(schema.name)' declares a parameter "
                                  + "named '\(spec.name)', which is a host-owned key (\(schema.kind.rawValue).\(spec.name))")
            }
            if spec.name.isEmpty || spec.name.contains(".") {
                throw ConfigError(origin: nil, message: "\(schema.kind.rawValue) '\(schema.name)' declares a parameter "
                                  + "named '\(spec.name)', which cannot be a config key")
            }
        }
    }

    /// Every parameter of `schema` under `prefix`, from the layers or the declared default.
    private mutating func parameters(of schema: ComponentSchema, prefix: String) throws -> [String: ParameterValue] {
        var values: [String: ParameterValue] = [:]
        for spec in schema.parameters {
            let key = prefix + spec.name
            let value: ParameterValue
            let origin: ValueOrigin
            if let (raw, from) = try reader.lookup(key, list: spec.kind == .floatList) {
                value = try spec.validate(raw, key: key, origin: from)
                origin = from
            } else {
                value = try spec.validate(spec.defaultValue, key: key,
                                          origin: "default of \(schema.kind.rawValue) '\(schema.name)'")
                origin = .builtIn
            }
            record(key, text: spec.displayText(value), json: spec.jsonText(value), origin: origin)
            values[spec.name] = value
        }
        return values
    }

    // MARK: Bookkeeping

    /// Remembers a resolved value.
    private mutating func record(_ key: String, text: String, json: String, origin: ValueOrigin) {
        entries[key] = ConfigEntry(key: key, value: text, source: origin.source, json: json)
        origins[key] = origin
    }

    /// All keys of the resolved config in `config show` order.
    private func keyOrder(_ selected: UnknownKeyCheck.Selected) -> [String] {
        let hostSections = HostKeys.all.map(\.key).filter {
            ["data", "model", "train", "run"].contains($0.split(separator: ".")[0])
        }
        return hostSections
            + ["attention.name"] + selected.attention.parameters.map { "attention.\($0.name)" }
            + ["optimizer.name", "optimizer.lr"] + selected.optimizer.parameters.map { "optimizer.\($0.name)" }
            + ["evaluators", "callbacks"]
            + selected.listed.flatMap { c in c.parameters.map { "params.\(c.name).\($0.name)" } }
            + ["plugins.paths"]
    }

    /// Checks between keys.
    private func checkConsistency(_ model: ModelConfig) throws {
        if model.nEmbd % model.nHead != 0 {
            let embd = origins["model.n_embd"]?.label ?? "default", head = origins["model.n_head"]?.label ?? "default"
            throw ConfigError(origin: nil, message: "model.n_embd (\(model.nEmbd), from \(embd)) must be divisible by "
                              + "model.n_head (\(model.nHead), from \(head))")
        }
    }
}
