import CAutoGLM
import Foundation

/// One live instance of a plugin component: created from validated parameters, destroyed when
/// released. Subclasses add the kind's calls.
public class ComponentInstance: @unchecked Sendable {
    /// The component it is an instance of.
    let component: RegisteredComponent
    /// The plugin's instance pointer.
    let instance: UnsafeMutableRawPointer?
    /// The persistent constants `create` made (ABI 1.2 `constant_new`), freed with the instance.
    let constants: InstanceConstants

    /// Parameter lookups of `create` that named no declared parameter, or one of another type
    /// (only a library built before ABI 1.2 gets this far with any: see `init`).
    let lookupProblems: [String]

    /// Public description of the component.
    public var info: ComponentInfo { component.info }

    /// Creates an instance through the component's `create`. A `create` that asked for a
    /// parameter its schema does not declare (or of another type) fails, for a library built
    /// against ABI 1.2; an older one gets a warning.
    init(component: RegisteredComponent, parameters: [String: ParameterValue], info: UnsafeRawPointer?,
         layout: UnsafeMutableRawPointer?) throws {
        self.component = component
        let constants = InstanceConstants()
        self.constants = constants
        let params = ParameterValues(parameters, schema: component.info.parameters)
        let ctx = CallContext(file: component.info.file, component: component.info.name, call: "create")
        ctx.constants = constants
        ctx.acceptsConstants = component.info.kind == .attention
        var out: UnsafeMutableRawPointer?
        let status = withExtendedLifetime(params) { component.create(ctx.pointer, params.pointer, info, layout, &out) }
        let lookups = params.badLookups.map { "create asked for parameter \($0)" }
        if status != AGLM_OK, !lookups.isEmpty {
            ctx.errorMessage = (ctx.errorMessage ?? "failed without a message") + "; " + lookups.joined(separator: "; ")
        }
        try ctx.check(status)
        if !lookups.isEmpty {
            guard component.abiMinor < 2 else {
                component.destroy(out)
                throw ctx.error(status: AGLM_ERR_INVALID_ARGUMENT,
                                reason: lookups.joined(separator: "; ") + ": fix the name in the plugin's code or declare it in the schema")
            }
            HostLog.emit(.warning, "\(PluginError(file: component.info.file, component: component.info.name, call: "create", reason: lookups.joined(separator: "; ") + " (it read 0 or \"\")"))")
        }
        lookupProblems = params.badLookups
        instance = out
    }

    deinit { component.destroy(instance) }

    /// A fresh context for `call` on this component (the instance's constants are valid in it).
    func context(_ call: String) -> CallContext {
        let ctx = CallContext(file: component.info.file, component: component.info.name, call: call)
        ctx.constants = constants
        return ctx
    }

    /// The component's own state for a checkpoint (nil if it has no save_state).
    public func saveState() throws -> [UInt8]? {
        guard let save = component.saveState else { return nil }
        let ctx = context("save_state")
        ctx.acceptsState = true
        try ctx.check(save(instance, ctx.pointer))
        return ctx.stateBytes
    }

    /// Restores state written by `saveState`.
    public func loadState(_ bytes: [UInt8]) throws {
        guard let load = component.loadState else {
            throw PluginError(file: component.info.file, component: component.info.name, call: "load_state",
                              reason: "the checkpoint holds state for this component but it has no load_state")
        }
        let ctx = context("load_state")
        try bytes.withUnsafeBytes { try ctx.check(load(instance, ctx.pointer, $0.baseAddress, $0.count)) }
    }
}

extension PluginRegistry {
    /// Looks up `kind`/`name` or throws a message listing what is available.
    func require(_ kind: ComponentKind, _ name: String) throws -> RegisteredComponent {
        guard let c = component(kind: kind, name: name) else {
            throw PluginError(file: "(none)", component: name, reason: "no \(kind.rawValue) component named '\(name)' is loaded; available: \(names(kind: kind).joined(separator: ", "))")
        }
        return c
    }
}
