import Foundation

/// The differentiable tensor operations.
///
/// Every op returns a new contiguous tensor (only `reshape` shares its input's storage) and, while
/// `Autograd.isRecording` and some input requires a gradient, records a closure that accumulates
/// the input gradients. Ops whose shapes or arguments can be wrong throw `TensorError` instead of
/// trapping, because their shapes often come from untrusted plugins.
public enum Ops {}

/// A shape or argument error raised by an op; `message` names the op and the offending shapes.
public struct TensorError: Error, CustomStringConvertible, Equatable {
    /// Human-readable description, e.g. "matmul: inner dimensions differ: [2, 3] x [4, 5]".
    public let message: String

    /// An error carrying `message`.
    public init(message: String) { self.message = message }

    /// An error carrying `message` (unlabelled form).
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}

// MARK: - Internal helpers shared by the op files

/// Elements per parallel chunk for elementwise work: below twice this, kernels run inline.
let elementwiseGrain = 32_768

extension Tensor {
    /// A tensor whose elements are not initialised: only for op outputs whose kernel writes
    /// every element (saves the zero-fill pass, a large share of a memory-bound op).
    public convenience init(uninitialized shape: [Int]) {
        self.init(sharing: TensorStorage(uninitializedCount: shape.reduce(1, *)), shape: shape)
    }

    /// Where a backward kernel puts this tensor's gradient. A gradient that does not exist yet is
    /// allocated uninitialised and `accumulate` is false: the kernel must then store (`=`) into
    /// every element. With `writesAll: false` a new buffer is zero-filled and `accumulate` is
    /// true, for kernels that only touch some elements or add several times into one.
    @inline(__always)
    public func gradDestination(writesAll: Bool = true) -> (pointer: UnsafeMutablePointer<Float>, accumulate: Bool) {
        if let g = grad { return (g.data, true) }
        let g = writesAll ? Tensor(uninitialized: shape) : Tensor(zeros: shape)
        grad = g
        return (g.data, !writesAll)
    }

    /// The gradient buffer, created zero-filled on first use, so backward kernels can always
    /// accumulate (`+=`) into it.
    @inline(__always)
    func gradBuffer() -> UnsafeMutablePointer<Float> {
        if let g = grad { return g.data }
        let g = Tensor(zeros: shape)
        grad = g
        return g.data
    }
}

extension Ops {
    /// Resolves a possibly negative `dim` against `ndim` dimensions or throws "<op>: dim ...".
    static func normalizeDim(_ dim: Int, ndim: Int, op: String) throws -> Int {
        let d = dim < 0 ? dim + ndim : dim
        guard d >= 0, d < ndim else {
            throw TensorError("\(op): dim \(dim) out of range for a \(ndim)-D tensor")
        }
        return d
    }

    /// The largest element count an op will allocate (2^34 floats, 64 GiB); larger results come
    /// from corrupt shapes, so they throw instead of exhausting memory.
    public static let maxElements = 1 << 34

    /// Checks that `shape` has no negative extents and at most `maxElements` elements (without
    /// overflowing while multiplying); returns the element count.
    @discardableResult
    static func validateShape(_ shape: [Int], op: String) throws -> Int {
        var total = 1
        for s in shape {
            guard s >= 0 else { throw TensorError("\(op): negative dimension in shape \(shape)") }
        }
        if shape.contains(0) { return 0 }
        for s in shape {
            let (p, overflow) = total.multipliedReportingOverflow(by: s)
            guard !overflow, p <= maxElements else {
                throw TensorError("\(op): shape \(shape) has too many elements")
            }
            total = p
        }
        return total
    }

    /// (outer, size, inner) of `shape` around dimension `d`.
    @inline(__always)
    static func split(_ shape: [Int], at d: Int) -> (outer: Int, size: Int, inner: Int) {
        var outer = 1, inner = 1
        for i in 0..<d { outer *= shape[i] }
        for i in (d + 1)..<shape.count { inner *= shape[i] }
        return (outer, shape[d], inner)
    }

    /// dst[i] = f(i) (or += when `accumulate`) for i < n, in parallel when large.
    @inline(__always)
    static func emitGrad(_ dst: UnsafeMutablePointer<Float>, accumulate: Bool, _ n: Int, _ f: (Int) -> Float) {
        Kernels.parallelFor(n, minChunk: elementwiseGrain) { r in
            if accumulate { for i in r { dst[i] += f(i) } } else { for i in r { dst[i] = f(i) } }
        }
    }

    /// Number of row-chunks to use for `rows` rows of `rowCost` elements each.
    @inline(__always)
    static func parallelRows(_ rows: Int, rowCost: Int, _ body: (Range<Int>) -> Void) {
        let minRows = Swift.max(1, elementwiseGrain / Swift.max(rowCost, 1))
        Kernels.parallelFor(rows, minChunk: minRows, body)
    }
}
