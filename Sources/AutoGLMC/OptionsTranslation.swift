import AutoGLM
import CAutoGLM
import Foundation

/// The program's `aglm_session_options` as the library's `SessionOptions`: every string and
/// array checked and copied, the components and functions registered (during the create call,
/// while the program's pointers are valid), the callbacks bridged.
enum OptionsTranslation {
    /// `SessionOptions` for `pointer`.
    /// - Throws: `APIError` (AGLM_ERR_INVALID_ARGUMENT) naming the field at fault.
    static func sessionOptions(_ pointer: UnsafePointer<aglm_session_options>?) throws -> SessionOptions {
        let o = try StructLayout.read(pointer, "options", defaults: Defaults.sessionOptions)
        var options = SessionOptions()
        let file = CArguments.optionalString(o.config_file), text = CArguments.optionalString(o.config_text)
        guard file == nil || text == nil else {
            throw APIError.invalid("options: config_file and config_text are both set: give one of them")
        }
        options.configFile = file
        options.configText = text.map { ($0, CArguments.optionalString(o.config_label) ?? "config text") }
        options.overrides = try CArguments.strings(o.overrides, count: o.override_count, "options->overrides")
        options.environment = o.use_environment != 0 ? ProcessInfo.processInfo.environment : [:]
        options.pluginDirectories = try CArguments.strings(o.plugin_dirs, count: o.plugin_dir_count, "options->plugin_dirs")
        if o.bundled_plugins == 0 { options.bundledPlugins = nil }
        options.registerComponents = try registration(o)
        options.data = try data(o)
        options.resume = CArguments.optionalString(o.resume)
        if let text = CArguments.optionalString(o.checkpoint) {
            guard let choice = RunDirectory.CheckpointChoice(text: text) else {
                throw APIError.invalid("options->checkpoint '\(text)': use \"latest\", \"best\" or a step number such as \"500\"")
            }
            options.checkpoint = choice
        }
        options.allowConfigChange = o.allow_config_change != 0
        options.overwrite = o.overwrite != 0
        options.progress = o.progress.map { Callbacks.progress(CCallback(function: $0, userData: o.progress_user_data)) }
        options.log = o.log.map { Callbacks.log(CCallback(function: $0, userData: o.log_user_data)) }
        return options
    }

    /// Where the training text comes from.
    private static func data(_ o: aglm_session_options) throws -> SessionData {
        switch UInt32(bitPattern: o.data) {
        case AGLM_DATA_CONFIG.rawValue: return .configured
        case AGLM_DATA_TEXT.rawValue: return .text(try CArguments.string(o.data_text, "options->data_text (with AGLM_DATA_TEXT)"))
        case AGLM_DATA_NONE.rawValue: return .none
        default:
            throw APIError.invalid("options->data is \(o.data): use AGLM_DATA_CONFIG (0), AGLM_DATA_TEXT (1) or AGLM_DATA_NONE (2)")
        }
    }

    /// Registers the program's components and functions in a session's registry, after the
    /// plugins are loaded (so a clash names the plugin's file). The descriptors are validated
    /// (and copied) by the registry; the function declarations are read now.
    private static func registration(_ o: aglm_session_options) throws -> (PluginRegistry) throws -> Void {
        let owner = CArguments.optionalString(o.owner) ?? "in-process"
        let components = Array(try CArguments.array(o.components, count: o.component_count, "options->components"))
        let functions = try CArguments.array(o.functions, count: o.function_count, "options->functions").enumerated().map {
            try FunctionDeclaration($0.element, "options->functions[\($0.offset)]")
        }
        return { registry in
            for (index, desc) in components.enumerated() {
                do {
                    try registry.register(inProcess: desc, owner: owner)
                } catch {
                    throw APIError(AGLM_ERR_PLUGIN, "options->components[\(index)] from \(owner): \(error)")
                }
            }
            for function in functions {
                do {
                    try registry.registerFunction(prototype: function.prototype, address: function.address, doc: function.doc,
                                                  exampleArguments: function.exampleArguments, origin: owner)
                } catch {
                    throw APIError(AGLM_ERR_PLUGIN, "\(function.field) from \(owner): \(error)")
                }
            }
        }
    }
}

/// An `aglm_function_decl` read into Swift values.
private struct FunctionDeclaration {
    /// The prototype.
    let prototype: String
    /// The function.
    let address: UnsafeRawPointer
    /// Its doc line.
    let doc: String
    /// Its example arguments.
    let exampleArguments: String
    /// Which option it came from, for messages.
    let field: String

    /// Reads the declaration at `pointer`.
    init(_ pointer: UnsafePointer<aglm_function_decl>?, _ field: String) throws {
        let decl = try StructLayout.read(pointer, field, defaults: Defaults.functionDecl)
        prototype = try CArguments.string(decl.prototype, "\(field)->prototype")
        guard let fn = decl.fn else { throw APIError.invalid("\(field)->fn is NULL for '\(prototype)'") }
        address = unsafeBitCast(fn, to: UnsafeRawPointer.self)
        doc = CArguments.optionalString(decl.doc) ?? ""
        exampleArguments = CArguments.optionalString(decl.example_args) ?? ""
        self.field = field
    }
}
