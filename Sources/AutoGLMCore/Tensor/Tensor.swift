import Foundation

/// A dense, row-major float32 tensor with an optional place on the autograd tape.
///
/// Storage is always contiguous: `reshaped(_:)` shares it, every other op writes a new tensor.
/// A tensor created by an op while recording is enabled remembers its inputs and a closure that
/// propagates its gradient to them; `backward()` walks that graph in reverse topological order.
public final class Tensor: @unchecked Sendable {
    /// Extent of each dimension.
    public let shape: [Int]
    /// Number of elements (product of `shape`; 1 for a scalar).
    public let count: Int
    /// The element buffer, shared by reshaped views.
    public let storage: TensorStorage
    /// Whether gradients are accumulated into `grad` for this tensor (leaves) or flow through it.
    public var requiresGrad: Bool
    /// Accumulated gradient, same shape; created on first accumulation.
    public var grad: Tensor?
    /// Inputs of the op that produced this tensor (empty for leaves and constants).
    public internal(set) var parents: [Tensor] = []
    /// Propagates `self.grad` to `parents`' gradients; nil for leaves and constants.
    public internal(set) var backwardFn: ((Tensor) throws -> Void)?
    /// Optional name, used for parameters ("blocks.0.attn.qkv.weight").
    public var name: String?

    /// Pointer to the first element.
    @inlinable public var data: UnsafeMutablePointer<Float> { storage.pointer }

    /// A zero-filled tensor.
    public init(zeros shape: [Int], requiresGrad: Bool = false) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = TensorStorage(count: count)
        self.requiresGrad = requiresGrad
    }

    /// A tensor holding `values` (row-major); `values.count` must equal the product of `shape`.
    public convenience init(shape: [Int], values: [Float], requiresGrad: Bool = false) {
        self.init(zeros: shape, requiresGrad: requiresGrad)
        precondition(values.count == count, "Tensor: \(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    /// A tensor sharing `storage` under another shape with the same element count.
    init(sharing storage: TensorStorage, shape: [Int]) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        precondition(count == storage.count, "Tensor: shape \(shape) does not fit \(storage.count) elements")
        self.storage = storage
        self.requiresGrad = false
    }

    /// Values copied into an array (row-major).
    public var values: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    /// Number of dimensions.
    public var ndim: Int { shape.count }

    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item: tensor has \(count) elements")
        return data[0]
    }

    /// Adds `g` (same shape) into `grad`, creating it if needed.
    public func accumulateGrad(_ g: Tensor) {
        precondition(g.count == count, "accumulateGrad: \(g.shape) into \(shape)")
        if let existing = grad {
            Kernels.addInPlace(existing.data, g.data, count)
        } else {
            let copy = Tensor(uninitialized: shape)   // every element is overwritten just below
            copy.data.update(from: g.data, count: count)
            grad = copy
        }
    }

    /// Adds `g` (same shape) into `grad`; when there is no gradient yet, `g` itself becomes it
    /// (no copy). For backward closures handing on the gradient they were given as their last
    /// use of it: the autograd loop drops a node's gradient right after its closure, so the
    /// buffer then has one owner again.
    public func adoptGrad(_ g: Tensor) {
        if grad == nil && g.shape == shape { grad = g } else { accumulateGrad(g) }
    }

    /// Adds `n` floats at `source` into the gradient (created zero-filled if needed).
    public func accumulateGrad(from source: UnsafePointer<Float>) {
        if grad == nil { grad = Tensor(zeros: shape) }
        Kernels.addInPlace(grad!.data, source, count)
    }

    /// Sets every element to zero.
    public func zero() { data.update(repeating: 0, count: count) }
}

/// A reference-counted float32 buffer, 64-byte aligned, freed when the last tensor drops it.
public final class TensorStorage: @unchecked Sendable {
    /// First element.
    public let pointer: UnsafeMutablePointer<Float>
    /// Number of elements.
    public let count: Int

    /// Allocates `count` zero-filled elements.
    public init(count: Int) {
        self.count = count
        pointer = BufferPool.shared.take(count: max(count, 1))
        pointer.update(repeating: 0, count: max(count, 1))
    }

    /// Test aid: when true, buffers allocated without zero-fill are filled with NaN instead, so
    /// that a kernel leaving an element unwritten that it promised to write shows up as NaN
    /// rather than as stale values. Set it only while no other thread allocates tensors.
    nonisolated(unsafe) public static var poisonsUninitialized = false

    /// Allocates `count` elements without zero-filling them, for ops that overwrite every one.
    init(uninitializedCount count: Int) {
        self.count = count
        pointer = BufferPool.shared.take(count: max(count, 1))
        if Self.poisonsUninitialized { pointer.update(repeating: .nan, count: max(count, 1)) }
    }

    deinit { BufferPool.shared.give(pointer, count: max(count, 1)) }
}
