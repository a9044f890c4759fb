import Foundation

/// The value of a hook key (`train.lr_schedule`, …): which C function the trainer calls for that
/// quantity at every step, and the arguments the config gives it. Written either as a shorthand
/// the key declares (`lr_schedule: cosine`) or as a map:
///
///     lr_schedule: { function: warmup_cosine, args: { warmup: 100, total: 5000, min_lr: 1e-4 } }
///     lr_schedule: { library: libm.so.6, symbol: fmin, prototype: "double fmin(double base_lr, double cap)",
///                    args: { cap: 5e-4 } }
///
/// A function named with `function` is one a plugin (or the program) registered by prototype; one
/// named with `library` is bound from that shared library's `symbol` (default: the prototype's
/// name). The trainer supplies the arguments it owns (see `TrainerHooks`); every other argument
/// comes from `args`, as text until the function's prototype says its type.
public struct HookBinding: Sendable, Equatable, HostKeyValue {
    /// The shorthand written (nil for the map form).
    public var shorthand: String?
    /// A registered function's name.
    public var function: String?
    /// A shared library to bind `symbol` from.
    public var library: String?
    /// The symbol (default: the prototype's function name).
    public var symbol: String?
    /// The prototype of a library symbol.
    public var prototype: String?
    /// Arguments by parameter name, as written.
    public var args: [String: String] = [:]

    /// A binding written as the shorthand `name`.
    public init(shorthand name: String) { shorthand = name }

    /// A binding written as a map.
    public init(function: String? = nil, library: String? = nil, symbol: String? = nil, prototype: String? = nil,
                args: [String: String] = [:]) {
        self.function = function; self.library = library; self.symbol = symbol; self.prototype = prototype
        self.args = args
    }

    /// The map form's fields (the part after the key: `function`, `args.warmup`, …) and their
    /// text, in a fixed order.
    var fields: [(field: String, text: String)] {
        var out: [(String, String)] = []
        if let function { out.append(("function", function)) }
        if let library { out.append(("library", library)) }
        if let symbol { out.append(("symbol", symbol)) }
        if let prototype { out.append(("prototype", prototype)) }
        out += args.keys.sorted().map { ("\(HookBinding.argsField).\($0)", args[$0]!) }
        return out
    }

    /// The fields a binding map may hold besides `args.<name>`.
    static let mapFields = ["function", "library", "symbol", "prototype"]
    /// The field holding the arguments.
    static let argsField = "args"

    /// The binding of a `.hook` value.
    public init?(parameterValue value: ParameterValue) {
        guard case .hook(let binding) = value else { return nil }
        self = binding
    }

    /// As a config value.
    public var parameterValue: ParameterValue { .hook(self) }
}

/// A shorthand a hook key declares: the function it stands for (nil: no function, the
/// quantity stays what its plain key says) and arguments taken from other keys.
public struct HookShorthand: Sendable, Equatable {
    /// Its name, as written in the config (`cosine`).
    public var name: String
    /// The registered function it calls (nil: none).
    public var function: String?
    /// Arguments by parameter name, each the value of the named host key (`"warmup": "train.warmup_steps"`).
    public var argsFromKeys: [String: String]
    /// What it means, for the reference.
    public var doc: String

    /// The shorthand `name` for `function` with arguments from keys.
    public init(_ name: String, function: String?, argsFromKeys: [String: String] = [:], doc: String) {
        self.name = name; self.function = function; self.argsFromKeys = argsFromKeys; self.doc = doc
    }
}
