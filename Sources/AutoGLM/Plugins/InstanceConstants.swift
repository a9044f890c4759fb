import AutoGLMCore
import Foundation

/// The persistent constants of one component instance (ABI 1.2 `constant_new`): tensors made
/// during its `create` whose handles stay valid in every later call on that instance. Owned by
/// the `ComponentInstance`, so they are freed with it; a context of another instance (or one
/// made after the instance is gone) does not know their handles and refuses them.
final class InstanceConstants {
    /// The constants, kept alive by this array.
    private(set) var tensors: [Tensor] = []
    /// Their handle values, to validate handles coming back from the plugin.
    private var handles = Set<UnsafeMutableRawPointer>()

    /// Adds `tensor` and returns its handle.
    func add(_ tensor: Tensor) -> OpaquePointer {
        let raw = Unmanaged.passUnretained(tensor).toOpaque()
        if handles.insert(raw).inserted { tensors.append(tensor) }
        return OpaquePointer(raw)
    }

    /// The constant behind `raw`, if it is one of these.
    func tensor(_ raw: UnsafeMutableRawPointer) -> Tensor? {
        handles.contains(raw) ? Unmanaged<Tensor>.fromOpaque(raw).takeUnretainedValue() : nil
    }
}
