import AutoGLM
import AutoGLMCore
import CAutoGLM
import Foundation

/// What a session handle stands for: the `Session`, the memory the C API lends from it, and
/// the gate that admits one thread at a time.
final class SessionBox {
    /// The session.
    let session: Session
    /// Held by the thread inside a call on this handle.
    private let gate = NSLock()
    /// Guards `holder` and `freed`, which other threads read to explain a refusal.
    private let state = NSLock()
    /// The thread inside, if any.
    private var holder: pthread_t?
    /// Set by `aglm_session_free`.
    private var freed = false

    /// Lent until the session is freed: listings, tensor names and shapes, the run directory.
    let lifetime = LentMemory()
    /// Lent until the next call that trains, evaluates or loads: the metric names.
    private let untilChange = LentMemory()
    /// Lent until the next sample: its text.
    let sampleText = LentMemory()
    /// The latest metrics as lent (nil: not built since the last change).
    private var lentMetrics: [(name: UnsafePointer<CChar>, value: Double)]?
    /// The metrics of an evaluation outside training (nil: the trainer's latest).
    private var evaluated: [Metric]?

    /// Wraps a new session.
    init(_ session: Session) { self.session = session }

    /// Runs `body` as the one thread inside this session.
    /// - Throws: `APIError` (AGLM_ERR_BUSY) while another thread — or a callback of this one —
    ///   is inside; (AGLM_ERR_HANDLE) once the session has been freed.
    func use<T>(_ body: () throws -> T) throws -> T {
        guard gate.try() else {
            let reentrant = state.withLock { holder.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
            throw APIError(AGLM_ERR_BUSY, reentrant
                ? "called from a callback running inside this session: a callback may only call aglm_session_request_stop on its own session"
                : SessionError.busy.description)
        }
        defer { gate.unlock() }
        let gone: Bool = state.withLock {
            holder = pthread_self()
            return freed
        }
        defer { state.withLock { holder = nil } }
        guard !gone else { throw APIError(AGLM_ERR_HANDLE, "the session was freed") }
        return try body()
    }

    /// Marks the session freed (inside `use`): a thread that looked the handle up before it was
    /// withdrawn is refused too.
    func markFreed() { state.withLock { freed = true } }

    /// Ends the lending of metric names (inside `use`, before training, evaluating or loading);
    /// `evaluated` are the metrics of an evaluation outside training, nil for the trainer's.
    func metricsChange(to evaluated: [Metric]? = nil) {
        self.evaluated = evaluated
        lentMetrics = nil
        untilChange.release()
    }

    /// The latest metrics, their names lent until the next change (inside `use`).
    var metrics: [(name: UnsafePointer<CChar>, value: Double)] {
        if let lentMetrics { return lentMetrics }
        let built = (evaluated ?? session.state.metrics).map { (untilChange.string($0.name), $0.value) }
        lentMetrics = built
        return built
    }

    /// Every component the session can use, as lent C structs (built once).
    lazy var components: [ComponentListing] = session.registry.allComponents.map { ComponentListing($0, lending: lifetime) }

    /// Every registered function, as lent C structs (built once).
    lazy var functions: [aglm_function_entry] = session.registry.allFunctions.map { info in
        var entry = aglm_function_entry()
        entry.struct_size = MemoryLayout<aglm_function_entry>.size
        entry.name = lifetime.string(info.name)
        entry.prototype = lifetime.string(info.prototype)
        entry.doc = lifetime.string(info.doc)
        entry.example_args = lifetime.string(info.exampleArguments)
        entry.origin = lifetime.string(info.file)
        return entry
    }

    /// The model's parameter tensors with their lent names, shapes and strides (built once).
    lazy var tensors: [LentTensor] = session.model.parameters.map { LentTensor($0, lending: lifetime) }

    /// The run directory as a lent string (built once).
    lazy var runDirectory: UnsafePointer<CChar> = lifetime.string(session.runDirectory.path)
}

/// One parameter tensor with its name, shape and strides lent as C data.
struct LentTensor {
    /// The parameter.
    let tensor: Tensor
    /// Its name.
    let name: UnsafePointer<CChar>
    /// Its extents.
    let shape: UnsafePointer<Int64>
    /// Its row-major strides, in elements.
    let strides: UnsafePointer<Int64>

    /// Lends `tensor`'s name, shape and strides from `memory`.
    init(_ tensor: Tensor, lending memory: LentMemory) {
        self.tensor = tensor
        name = memory.string(tensor.name ?? "")
        shape = memory.array(tensor.shape.map(Int64.init))
        var strides = [Int64](repeating: 1, count: tensor.shape.count)
        for i in stride(from: tensor.shape.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * Int64(tensor.shape[i + 1]) }
        self.strides = memory.array(strides)
    }

    /// A dense float32 view of the tensor's current values.
    var view: aglm_view {
        var view = aglm_view()
        view.struct_size = MemoryLayout<aglm_view>.size
        view.data = UnsafeMutableRawPointer(tensor.data)
        view.ndim = Int32(tensor.shape.count)
        view.dtype = aglm_dtype(code: UInt8(AGLM_DTYPE_FLOAT.rawValue), bits: 32, lanes: 1)
        view.shape = shape
        view.strides = strides
        return view
    }
}
