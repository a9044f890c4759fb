import CAutoGLM
import Foundation

/// Public description of a registered component, as listed by `autoglm plugins`.
public struct ComponentInfo: Sendable {
    /// Kind of component.
    public var kind: ComponentKind
    /// Registered name.
    public var name: String
    /// One-line summary.
    public var summary: String
    /// The component's own version.
    public var version: String
    /// Declared parameters.
    public var parameters: [ParameterSpec]
    /// Plugin library file it came from.
    public var file: String
    /// ABI version the library was built against ("1.0").
    public var abi: String
    /// Attention only: "composed" (host ops, autograd backward) or "fused" (own backward).
    public var attentionPath: String?
    /// Attention only: whether it has the incremental decoding entry (ABI 1.2 `decode`), which
    /// `autoglm sample` uses with a key/value cache.
    public var decodes = false
}

/// A component copied out of its `aglm_component_desc`, with the function pointers needed to
/// create instances. Lives for the whole process (its library is never unloaded).
final class RegisteredComponent: @unchecked Sendable {
    /// Public description.
    let info: ComponentInfo
    /// `create` from the descriptor.
    let create: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeRawPointer?, UnsafeMutableRawPointer?,
                                UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> aglm_status
    /// `destroy` from the descriptor.
    let destroy: @convention(c) (UnsafeMutableRawPointer?) -> Void
    /// Optional `save_state`.
    let saveState: (@convention(c) (UnsafeMutableRawPointer?, OpaquePointer?) -> aglm_status)?
    /// Optional `load_state`.
    let loadState: (@convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafeRawPointer?, Int) -> aglm_status)?
    /// Kind-specific vtable (static storage in the plugin).
    let vtable: UnsafeRawPointer

    init(info: ComponentInfo, desc: aglm_component_desc) {
        self.info = info
        create = desc.create!
        destroy = desc.destroy!
        saveState = desc.save_state
        loadState = desc.load_state
        vtable = desc.vtable!
    }

    /// The kind's vtable as the host sees it: the plugin's struct up to its `struct_size`, the
    /// fields of later minors zero (NULL) for an older plugin.
    func vtable<T>(as type: T.Type) -> T { ABIStruct.load(type, sizedAt: vtable) }

    /// ABI minor of the library the component came from (1.2 → 2).
    var abiMinor: Int { Int(info.abi.split(separator: ".").last ?? "0") ?? 0 }

    /// Schema view for the config layer.
    var schema: ComponentSchema { ComponentSchema(kind: info.kind, name: info.name, parameters: info.parameters) }
}
