import Foundation

/// Checks a space file against the keys the base config can take — host keys, the parameters of
/// the components it selects or the space searches, the `params.<name>.*` of its listed
/// components — and their declared types and bounds, and builds the `SearchSpace`. Problems are
/// `ConfigError`s naming the file, line and key, like config errors.
struct SearchSpaceBuilder {
    /// The parsed file.
    let file: SearchSpaceFile
    /// The base config, resolved (which components it selects).
    let base: RunConfig
    /// Component schemas (the plugin registry).
    let schemas: any ComponentSchemaSource
    /// Host keys.
    var hostSchema: ConfigSchema = .host

    /// Keys the search sets itself for every trial.
    static let reserved: [String: String] = [
        HostKeys.table.run.dir.name: "each trial's run directory is set by the search (next to the study file)",
        HostKeys.table.train.threads.name: "the search sets threads per trial from --jobs so the cores are not oversubscribed",
    ]

    /// A component section (`attention`) and the components its trials may use.
    private struct ComponentChoice {
        let section: String
        let kind: ComponentKind
        let candidates: [String]
        /// Whether the space searches the choice (else the base config's component is used).
        let searched: Bool
        /// The entry that asked for `params: auto`, if any.
        let autoEntry: SearchSpaceFile.Entry?
    }

    /// The space.
    func build() throws -> SearchSpace {
        let choices = try componentChoices()
        var controllers: [SearchParameter] = [], others: [SearchParameter] = []
        for entry in file.entries {
            let parameter = try self.parameter(for: entry, choices: choices)
            if choices.contains(where: { $0.searched && $0.section + ".name" == entry.key }) {
                controllers.append(parameter)
            } else {
                others.append(parameter)
            }
        }
        var expanded: [SearchParameter] = [], skipped: [String] = []
        for choice in choices {
            guard let entry = choice.autoEntry else { continue }
            let explicit = Set(file.entries.map(\.key))
            try expand(choice, from: entry, skipping: explicit, into: &expanded, skipped: &skipped)
        }
        return SearchSpace(parameters: controllers + others + expanded, skipped: skipped)
    }

    /// Where an entry's values came from, as error messages start.
    private func source(_ entry: SearchSpaceFile.Entry) -> ConfigSource { .described("\(file.path):\(entry.line)") }

    /// An error about `entry`: `FILE:LINE: KEY: MESSAGE`.
    private func fail(_ entry: SearchSpaceFile.Entry, _ message: String) -> ConfigError {
        source(entry).error(key: entry.key, message)
    }

    /// Every component section: its searched choice (checked) or the base config's component.
    private func componentChoices() throws -> [ComponentChoice] {
        try hostSchema.keys.compactMap { key -> ComponentChoice? in
            guard case .selects(let kind) = key.role else { return nil }
            let section = key.section
            guard let entry = file.entries.first(where: { $0.key == key.name }) else {
                let name = base.values[key.name].flatMap(String.init(parameterValue:)) ?? ""
                return ComponentChoice(section: section, kind: kind, candidates: [name], searched: false, autoEntry: nil)
            }
            let available = schemas.names(kind: kind)
            let names: [String], wantsAuto: Bool
            switch entry.form {
            case .auto:
                (names, wantsAuto) = (available, false)
            case let .distribution(name, values, log, step, autoParams):
                guard name == "choice", log == nil, step == nil else {
                    throw fail(entry, "a component is chosen with { choice: [\(available.prefix(3).joined(separator: ", "))] }, not \(name)")
                }
                for value in values where !available.contains(value) {
                    throw fail(entry, "no \(kind.rawValue) component named '\(value)'" + Suggestion.hint(for: value, in: available)
                               + "; available: " + (available.isEmpty ? "none" : available.joined(separator: ", ")))
                }
                (names, wantsAuto) = (values, autoParams)
            }
            try checkDistinct(names, entry)
            return ComponentChoice(section: section, kind: kind, candidates: names, searched: true, autoEntry: wantsAuto ? entry : nil)
        }
    }

    /// The searched parameter of one entry.
    private func parameter(for entry: SearchSpaceFile.Entry, choices: [ComponentChoice]) throws -> SearchParameter {
        if let reason = Self.reserved[entry.key] { throw fail(entry, "cannot be searched: \(reason)") }
        if case .distribution(_, _, _, _, true) = entry.form, !choices.contains(where: { $0.section + ".name" == entry.key }) {
            throw fail(entry, "params: auto belongs on a component choice (attention.name, optimizer.name)")
        }
        let origin = "\(file.path):\(entry.line)"
        if let host = hostSchema.keys.first(where: { $0.name == entry.key }) {
            switch host.role {
            case .selects:
                let choice = choices.first { $0.section == host.section }!
                return SearchParameter(key: entry.key, distribution: .choice(choice.candidates), origin: origin)
            case .lists, .paths:
                throw fail(entry, "lists of components or paths cannot be searched")
            case .hook:
                throw fail(entry, "a hook (a function binding) cannot be searched; search the keys its arguments come from (e.g. train.warmup_steps, train.min_lr)")
            case .value, .path:
                return SearchParameter(key: entry.key, distribution: try distribution(entry, spec: host.spec), origin: origin)
            }
        }
        let parts = entry.key.split(separator: ".").map(String.init)
        if parts.count == 2, let choice = choices.first(where: { $0.section == parts[0] }) {
            return try componentParameter(entry, name: parts[1], choice: choice, origin: origin)
        }
        if parts.count == 3, parts[0] == ConfigSchema.paramsSection {
            return try listedParameter(entry, component: parts[1], name: parts[2], origin: origin)
        }
        throw fail(entry, "unknown key" + Suggestion.hint(for: entry.key, in: knownKeys(choices))
                   + "; a space searches keys of the config (see `autoglm config show`) and the parameters of its components")
    }

    /// `attention.window`: a parameter of the section's component, active in the trials whose
    /// component declares it.
    private func componentParameter(_ entry: SearchSpaceFile.Entry, name: String, choice: ComponentChoice,
                                    origin: String) throws -> SearchParameter {
        let declaring = choice.candidates.compactMap { candidate in
            schemas.schema(kind: choice.kind, name: candidate)?.parameters.first { $0.name == name }.map { (candidate, $0) }
        }
        guard !declaring.isEmpty else {
            // The host keys of the section are what a typo most often meant (optimizer.lrr → lr).
            let hostNames = hostSchema.keys.filter { $0.section == choice.section }.map { String($0.name.dropFirst(choice.section.count + 1)) }
            let declared = hostNames + choice.candidates.flatMap {
                schemas.schema(kind: choice.kind, name: $0)?.parameters.map(\.name) ?? []
            }
            let hint = Suggestion.hint(for: name, in: declared)
            if choice.searched {
                throw fail(entry, "none of \(choice.candidates.joined(separator: ", ")) declares a parameter '\(name)'" + hint)
            }
            throw fail(entry, "unknown key for \(choice.kind.rawValue) '\(choice.candidates[0])' (the base config's "
                       + "\(choice.section).name)" + hint)
        }
        var result: SearchDistribution?
        for (component, spec) in declaring {
            do {
                result = try distribution(entry, spec: spec)
            } catch let error as ConfigError where declaring.count > 1 || choice.searched {
                throw ConfigError(origin: error.origin, message: error.message + " (as \(choice.kind.rawValue) '\(component)' declares it)")
            }
        }
        let names = declaring.map(\.0)
        let condition = choice.searched && names.count < choice.candidates.count
            ? SearchParameter.Condition(key: choice.section + ".name", values: names) : nil
        return SearchParameter(key: entry.key, distribution: result!, condition: condition, origin: origin)
    }

    /// `params.NAME.PARAM`: a parameter of an evaluator or callback the base config lists.
    private func listedParameter(_ entry: SearchSpaceFile.Entry, component: String, name: String,
                                 origin: String) throws -> SearchParameter {
        let listed = base.evaluators + base.callbacks
        guard let selection = listed.first(where: { $0.name == component }),
              let schema = schemas.schema(kind: selection.kind, name: component) else {
            throw fail(entry, "'\(component)' is not among the base config's evaluators and callbacks"
                       + Suggestion.hint(for: component, in: listed.map(\.name)))
        }
        guard let spec = schema.parameters.first(where: { $0.name == name }) else {
            throw fail(entry, "\(selection.kind.rawValue) '\(component)' declares no parameter '\(name)'"
                       + Suggestion.hint(for: name, in: schema.parameters.map(\.name)))
        }
        return SearchParameter(key: entry.key, distribution: try distribution(entry, spec: spec), origin: origin)
    }

    /// Keys the space could have meant, for "did you mean" hints.
    private func knownKeys(_ choices: [ComponentChoice]) -> [String] {
        var keys = hostSchema.keys.map(\.name)
        for choice in choices {
            for candidate in choice.candidates {
                keys += schemas.schema(kind: choice.kind, name: candidate)?.parameters.map { "\(choice.section).\($0.name)" } ?? []
            }
        }
        for listed in base.evaluators + base.callbacks {
            keys += schemas.schema(kind: listed.kind, name: listed.name)?.parameters.map {
                "\(ConfigSchema.paramsSection).\(listed.name).\($0.name)"
            } ?? []
        }
        return keys
    }

    // MARK: Distributions against declarations

    /// The distribution an entry asks for, checked against the key's declaration.
    private func distribution(_ entry: SearchSpaceFile.Entry, spec: ParameterSpec) throws -> SearchDistribution {
        switch entry.form {
        case .auto:
            switch Self.automatic(spec) {
            case .success(let distribution): return distribution
            case .failure(let reason): throw fail(entry, "auto cannot search it: \(reason.message)")
            }
        case let .distribution(name, values, log, step, _):
            switch name {
            case "choice":
                guard log == nil, step == nil else { throw fail(entry, "choice takes no log or step") }
                guard !values.isEmpty else { throw fail(entry, "choice needs at least one value") }
                for value in values { _ = try spec.validate(.scalar(value), key: entry.key, source: source(entry)) }
                try checkDistinct(values, entry)
                return .choice(values)
            case "int":
                return try integer(entry, spec: spec, values: values, log: log ?? false, step: step)
            default:
                return try float(entry, spec: spec, values: values, log: name == "loguniform", logOption: log, step: step)
            }
        }
    }

    /// `{ uniform: [low, high], step: s }` or `{ loguniform: [low, high] }` on a number key.
    private func float(_ entry: SearchSpaceFile.Entry, spec: ParameterSpec, values: [String], log: Bool, logOption: Bool?,
                       step: String?) throws -> SearchDistribution {
        let name = log ? "loguniform" : "uniform"
        guard spec.kind == .float else { throw wrongKind(entry, spec, name) }
        if log, logOption == false { throw fail(entry, "loguniform is on the log axis: drop log: false, or use uniform") }
        let isLog = log || logOption == true
        let (low, high) = try bounds(entry, values, name: name) { ParameterSpec.parseNumber($0) }
        for bound in [low, high] { _ = try spec.validate(.number(bound), key: entry.key, source: source(entry)) }
        if isLog, low <= 0 { throw fail(entry, "\(name) needs low > 0 (its axis is logarithmic), got \(values[0])") }
        var stepValue: Double?
        if let step {
            guard !isLog else { throw fail(entry, "step cannot be combined with a log scale") }
            guard let s = ParameterSpec.parseNumber(step), s > 0 else { throw fail(entry, "step must be a number > 0, got \(step)") }
            let count = (high - low) / s
            guard abs(count - count.rounded()) < 1e-9 * max(1, count) else {
                throw fail(entry, "step \(step) does not divide [\(values[0]), \(values[1])] into whole steps")
            }
            stepValue = s
        }
        return .float(low: low, high: high, log: isLog, step: stepValue)
    }

    /// `{ int: [low, high], step: s, log: true }` on an integer key.
    private func integer(_ entry: SearchSpaceFile.Entry, spec: ParameterSpec, values: [String], log: Bool,
                         step: String?) throws -> SearchDistribution {
        guard spec.kind == .int else { throw wrongKind(entry, spec, "int") }
        let (low, high) = try bounds(entry, values, name: "int") { ParameterSpec.parseInteger($0) }
        for bound in [low, high] { _ = try spec.validate(.number(Double(bound)), key: entry.key, source: source(entry)) }
        var stepValue = 1
        if let step {
            guard let s = ParameterSpec.parseInteger(step), s > 0 else { throw fail(entry, "step must be an integer > 0, got \(step)") }
            guard (high - low) % s == 0 else {
                throw fail(entry, "step \(s) does not divide [\(low), \(high)] into whole steps (try [\(low), \(high - (high - low) % s)])")
            }
            stepValue = s
        }
        if log {
            guard low >= 1 else { throw fail(entry, "int with log: true needs low >= 1, got \(low)") }
            guard stepValue == 1 else { throw fail(entry, "step cannot be combined with log: true") }
        }
        return .int(low: low, high: high, log: log, step: stepValue)
    }

    /// `[low, high]` parsed by `parse`, low < high.
    private func bounds<T: Comparable>(_ entry: SearchSpaceFile.Entry, _ values: [String], name: String,
                                       parse: (String) -> T?) throws -> (T, T) {
        guard values.count == 2 else { throw fail(entry, "\(name) takes [low, high], got \(values.count) value(s)") }
        guard let low = parse(values[0]), let high = parse(values[1]) else {
            let what = name == "int" ? "integers" : "numbers"
            throw fail(entry, "\(name) takes two \(what) [low, high], got [\(values.joined(separator: ", "))]")
        }
        guard low < high else { throw fail(entry, "\(name) needs low < high, got [\(values[0]), \(values[1])]") }
        return (low, high)
    }

    /// A distribution that does not suit the key's type.
    private func wrongKind(_ entry: SearchSpaceFile.Entry, _ spec: ParameterSpec, _ name: String) -> ConfigError {
        switch spec.kind {
        case .int: return fail(entry, "is an integer: use { int: [low, high] } rather than \(name)")
        case .float: return fail(entry, "is a number: use { uniform: [low, high] } or { loguniform: [low, high] } rather than \(name)")
        default: return fail(entry, "takes \(spec.typeDescription): use { choice: [...] } rather than \(name)")
        }
    }

    /// Names (or values) must not repeat.
    private func checkDistinct(_ values: [String], _ entry: SearchSpaceFile.Entry) throws {
        var seen = Set<String>()
        if let twice = values.first(where: { !seen.insert($0).inserted }) { throw fail(entry, "'\(twice)' is listed twice") }
    }

    // MARK: auto

    /// Why `auto` cannot search a parameter.
    struct Unsearchable: Error { let message: String }

    /// The distribution `auto` gives a declared parameter: its declared bounds (exclusive ends
    /// moved in by one representable value, or one for integers), on the log axis when the
    /// lower bound is above 0 and they span two decades or more; true/false for a flag, the
    /// declared choices for a choice.
    static func automatic(_ spec: ParameterSpec) -> Result<SearchDistribution, Unsearchable> {
        switch spec.kind {
        case .bool: return .success(.choice(["false", "true"]))
        case .choice:
            guard spec.choices.count > 1 else { return .failure(Unsearchable(message: "it declares one choice")) }
            return .success(.choice(spec.choices))
        case .string, .floatList, .stringList:
            return .failure(Unsearchable(message: "it is a \(spec.kind == .string ? "text" : "list") parameter; give it a { choice: [...] }"))
        case .hook:
            return .failure(Unsearchable(message: "it is a function binding; search the keys its arguments come from"))
        case .float, .int:
            guard spec.min.isFinite, spec.max.isFinite else {
                let missing = spec.max.isFinite ? "lower" : "upper"
                return .failure(Unsearchable(message: "it declares no \(missing) bound (\(spec.rangeDescription)); give it a range, "
                                             + "e.g. { \(spec.kind == .int ? "int" : "uniform"): [low, high] }"))
            }
            if spec.kind == .int {
                let low = Int(spec.min) + (spec.minExclusive ? 1 : 0), high = Int(spec.max) - (spec.maxExclusive ? 1 : 0)
                guard low < high else { return .failure(Unsearchable(message: "its range holds one value")) }
                return .success(.int(low: low, high: high, log: spec.min > 0 && Double(high) / Double(low) >= 100, step: 1))
            }
            let low = spec.minExclusive ? spec.min.nextUp : spec.min, high = spec.maxExclusive ? spec.max.nextDown : spec.max
            guard low < high else { return .failure(Unsearchable(message: "its range holds one value")) }
            return .success(.float(low: low, high: high, log: spec.min > 0 && high / low >= 100, step: nil))
        }
    }

    /// The parameters `params: auto` adds for a searched choice: every declared parameter of
    /// each candidate the space does not name, active when a component declaring it is chosen;
    /// one parameter per distinct declaration of a name.
    private func expand(_ choice: ComponentChoice, from entry: SearchSpaceFile.Entry, skipping explicit: Set<String>,
                        into parameters: inout [SearchParameter], skipped: inout [String]) throws {
        var byName: [(name: String, distribution: SearchDistribution, components: [String])] = []
        var unsearchable: [String: (reason: String, components: [String])] = [:]
        var order: [String] = []
        for candidate in choice.candidates {
            for spec in schemas.schema(kind: choice.kind, name: candidate)?.parameters ?? [] {
                let key = "\(choice.section).\(spec.name)"
                guard !explicit.contains(key) else { continue }
                if !order.contains(spec.name) { order.append(spec.name) }
                switch Self.automatic(spec) {
                case .success(let distribution):
                    if let i = byName.firstIndex(where: { $0.name == spec.name && $0.distribution == distribution }) {
                        byName[i].components.append(candidate)
                    } else {
                        byName.append((spec.name, distribution, [candidate]))
                    }
                case .failure(let reason):
                    unsearchable[spec.name, default: (reason.message, [])].components.append(candidate)
                }
            }
        }
        let origin = "auto from \(file.path):\(entry.line)"
        for name in order {
            let variants = byName.filter { $0.name == name }
            let key = "\(choice.section).\(name)"
            for variant in variants {
                let everyone = variant.components.count == choice.candidates.count
                parameters.append(SearchParameter(
                    key: key, name: variants.count > 1 ? "\(key)@\(variant.components.joined(separator: "+"))" : key,
                    distribution: variant.distribution,
                    condition: everyone ? nil : SearchParameter.Condition(key: choice.section + ".name", values: variant.components),
                    origin: origin))
            }
            if let (reason, components) = unsearchable[name] {
                skipped.append("\(key) (\(components.joined(separator: ", "))): \(reason)")
            }
        }
    }
}
