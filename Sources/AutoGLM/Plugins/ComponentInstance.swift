import CAutoGLM
import Foundation

/// One live instance of a plugin component: created from validated parameters, destroyed when
/// released. Subclasses add the kind's calls.
public class ComponentInstance: @unchecked Sendable {
    /// The component it is an instance of.
    let component: RegisteredComponent
    /// The plugin's instance pointer.
    let instance: UnsafeMutableRawPointer?

    /// Public description of the component.
    public var info: ComponentInfo { component.info }

    /// Creates an instance through the component's `create`.
    init(component: RegisteredComponent, parameters: [String: ParameterValue], info: UnsafeRawPointer?,
         layout: UnsafeMutableRawPointer?) throws {
        self.component = component
        let params = ParameterValues(parameters)
        let ctx = CallContext(file: component.info.file, component: component.info.name, call: "create")
        var out: UnsafeMutableRawPointer?
        let status = withExtendedLifetime(params) { component.create(ctx.pointer, params.pointer, info, layout, &out) }
        try ctx.check(status)
        instance = out
    }

    deinit { component.destroy(instance) }

    /// A fresh context for `call` on this component.
    func context(_ call: String) -> CallContext {
        CallContext(file: component.info.file, component: component.info.name, call: call)
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
