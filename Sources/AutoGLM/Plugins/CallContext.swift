import AutoGLMCore
import CAutoGLM
import Foundation

/// The host side of one `aglm_ctx`: created for a single call into a plugin, it collects the
/// error message, owns every tensor handle created during the call, and gathers what the call
/// emits (metrics, saved state, registered components).
final class CallContext {
    /// Plugin file the call goes to.
    let file: String
    /// Component the call goes to (nil during a library's init).
    let component: String?
    /// ABI function being called.
    let call: String
    /// Last message set with `set_error`.
    var errorMessage: String?
    /// Tensors whose handles were given to, or created by, the plugin; kept alive by this array.
    private(set) var tensors: [Tensor] = []
    /// Handle values of `tensors`, to validate handles coming back from the plugin.
    private var handles = Set<UnsafeMutableRawPointer>()
    /// Metrics reported with `emit_metric`.
    var metrics: [(name: String, value: Double)] = []
    /// Bytes appended with `write_state` (only while `acceptsState`).
    var stateBytes: [UInt8] = []
    /// Whether `write_state` is allowed (inside save_state).
    var acceptsState = false
    /// Whether `emit_metric` is allowed (inside an evaluator's compute).
    var acceptsMetrics = false
    /// During a library's init: the library being registered.
    var registration: LibraryRegistration?
    /// The persistent constants of the instance this call goes to (ABI 1.2): their handles are
    /// valid in this call too.
    var constants: InstanceConstants?
    /// Whether `constant_new` is allowed (inside an attention's create).
    var acceptsConstants = false
    /// Inside a callback's on_event: the model's parameters it may read and write (ABI 1.2).
    var modelParameters: ModelParameters?
    /// Objects (views) that must outlive the call's use of pointers into them.
    private var retained: [AnyObject] = []

    /// The training step the call belongs to, for its error message.
    var step: Int?
    /// The model parameter the call is about (an optimizer's), for its error message.
    var parameter: String?

    /// A context for `call` on `component` of the plugin at `file`.
    init(file: String, component: String?, call: String) {
        self.file = file; self.component = component; self.call = call
    }

    /// The pointer handed to C; valid while `self` is alive.
    var pointer: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    /// The context behind a C pointer (nil for NULL).
    static func from(_ pointer: OpaquePointer?) -> CallContext? {
        guard let pointer else { return nil }
        return Unmanaged<CallContext>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    /// A handle for `tensor`, kept alive until this context ends.
    func handle(for tensor: Tensor) -> OpaquePointer {
        let raw = Unmanaged.passUnretained(tensor).toOpaque()
        if handles.insert(raw).inserted { tensors.append(tensor) }
        return OpaquePointer(raw)
    }

    /// The tensor behind a handle, or nil (with an error set) if the handle is not one of this
    /// call's. NULL gives nil without an error, so NULL propagates through chained ops.
    func tensor(_ handle: OpaquePointer?, op: String) -> Tensor? {
        guard let handle else { return nil }
        let raw = UnsafeMutableRawPointer(handle)
        if let constant = constants?.tensor(raw) { return constant }
        guard handles.contains(raw) else {
            fail("\(op): not a tensor handle of this call (handles are only valid during the call that made them; constant_new's are valid for the life of the instance that made them)")
            return nil
        }
        return Unmanaged<Tensor>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Keeps `object` alive until this context ends.
    func keepAlive(_ object: AnyObject) { retained.append(object) }

    /// Records an error message (the first host-detected error is kept; plugins may overwrite).
    func fail(_ message: String) {
        if errorMessage == nil { errorMessage = message }
    }

    /// The error to throw after the call returned `status` (or produced nothing).
    func error(status: Int32?) -> PluginError {
        var reason = errorMessage ?? "failed without a message"
        if let status, status != AGLM_OK { reason += " (status \(CallContext.statusName(status)))" }
        return PluginError(file: file, component: component, call: call, reason: reason, step: step, parameter: parameter)
    }

    /// Throws if `status` is not AGLM_OK.
    func check(_ status: Int32) throws {
        if status != AGLM_OK { throw error(status: status) }
    }

    /// Symbolic name of a status code.
    static func statusName(_ status: Int32) -> String {
        switch status {
        case AGLM_OK: return "AGLM_OK"
        case AGLM_ERR_INVALID_ARGUMENT: return "AGLM_ERR_INVALID_ARGUMENT"
        case AGLM_ERR_OUT_OF_MEMORY: return "AGLM_ERR_OUT_OF_MEMORY"
        case AGLM_ERR_UNSUPPORTED: return "AGLM_ERR_UNSUPPORTED"
        case AGLM_ERR_STATE: return "AGLM_ERR_STATE"
        case AGLM_ERR_NUMERIC: return "AGLM_ERR_NUMERIC"
        case AGLM_ERR_INTERNAL: return "AGLM_ERR_INTERNAL"
        default: return "\(status)"
        }
    }
}
