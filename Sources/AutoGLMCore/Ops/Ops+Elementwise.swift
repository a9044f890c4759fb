import Foundation

struct AddKernel: BinaryKernel {
    @inline(__always) func f(_ a: Float, _ b: Float) -> Float { a + b }
    @inline(__always) func gradA(_ g: Float, _ a: Float, _ b: Float) -> Float { g }
    @inline(__always) func gradB(_ g: Float, _ a: Float, _ b: Float) -> Float { g }
}

struct SubKernel: BinaryKernel {
    @inline(__always) func f(_ a: Float, _ b: Float) -> Float { a - b }
    @inline(__always) func gradA(_ g: Float, _ a: Float, _ b: Float) -> Float { g }
    @inline(__always) func gradB(_ g: Float, _ a: Float, _ b: Float) -> Float { -g }
}

struct MulKernel: BinaryKernel {
    @inline(__always) func f(_ a: Float, _ b: Float) -> Float { a * b }
    @inline(__always) func gradA(_ g: Float, _ a: Float, _ b: Float) -> Float { g * b }
    @inline(__always) func gradB(_ g: Float, _ a: Float, _ b: Float) -> Float { g * a }
}

struct DivKernel: BinaryKernel {
    @inline(__always) func f(_ a: Float, _ b: Float) -> Float { a / b }
    @inline(__always) func gradA(_ g: Float, _ a: Float, _ b: Float) -> Float { g / b }
    @inline(__always) func gradB(_ g: Float, _ a: Float, _ b: Float) -> Float { -g * a / (b * b) }
}

struct MaximumKernel: BinaryKernel {
    // Neither a >= b nor a < b: one of them is NaN, and so is the result.
    @inline(__always) func f(_ a: Float, _ b: Float) -> Float { a >= b ? a : (a < b ? b : .nan) }
    @inline(__always) func gradA(_ g: Float, _ a: Float, _ b: Float) -> Float { a >= b ? g : 0 }
    @inline(__always) func gradB(_ g: Float, _ a: Float, _ b: Float) -> Float { a >= b ? 0 : g }
}

extension Ops {
    /// Runs a broadcasting binary op and records its backward.
    static func binary<K: BinaryKernel>(_ k: K, _ a: Tensor, _ b: Tensor, op: String) throws -> Tensor {
        let plan = try BroadcastPlan(a.shape, b.shape, op: op)
        let out = broadcastForward(k, plan, a, b)
        return out.recorded(from: [a, b]) { g in broadcastBackward(k, plan, a, b, g) }
    }

    /// a + b with NumPy broadcasting (shapes right-aligned; missing or size-1 dimensions
    /// broadcast). Throws when the shapes are incompatible.
    public static func add(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try binary(AddKernel(), a, b, op: "add")
    }

    /// a - b with NumPy broadcasting. Throws when the shapes are incompatible.
    public static func sub(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try binary(SubKernel(), a, b, op: "sub")
    }

    /// a * b (elementwise) with NumPy broadcasting. Throws when the shapes are incompatible.
    public static func mul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try binary(MulKernel(), a, b, op: "mul")
    }

    /// a / b (elementwise) with NumPy broadcasting. Throws when the shapes are incompatible.
    public static func div(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try binary(DivKernel(), a, b, op: "div")
    }

    /// The larger of a and b, elementwise, with NumPy broadcasting; NaN where either is NaN
    /// (like `torch.maximum`). The whole gradient goes to a where a >= b and to b elsewhere, so
    /// on a tie (a == b) a gets all of it and b none (PyTorch instead gives each half), and where
    /// either is NaN b gets it. A broadcast operand gets the sum over the output elements it
    /// was chosen for. Throws when the shapes are incompatible.
    public static func maximum(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try binary(MaximumKernel(), a, b, op: "maximum")
    }

    /// Applies `f` elementwise from `src` into `dst` over `n` elements, in parallel when large.
    @inline(__always)
    static func unaryMap(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int,
                         _ f: (Float) -> Float) {
        Kernels.parallelFor(n, minChunk: elementwiseGrain) { r in
            for i in r { dst[i] = f(src[i]) }
        }
    }

    /// a * scale + shift, elementwise.
    public static func affine(_ a: Tensor, scale: Float, shift: Float) -> Tensor {
        let out = Tensor(uninitialized: a.shape)
        let src = a.data, dst = out.data
        unaryMap(src, dst, a.count) { $0 * scale + shift }
        return out.recorded(from: [a]) { g in
            let (da, acc) = a.gradDestination(), pg = g.data
            emitGrad(da, accumulate: acc, a.count) { pg[$0] * scale }
        }
    }

    /// e^a, elementwise (vectorised; e^-inf = 0).
    public static func exp(_ a: Tensor) -> Tensor {
        let out = Tensor(uninitialized: a.shape)
        let src = a.data, dst = out.data
        Kernels.parallelFor(a.count, minChunk: elementwiseGrain) { r in
            Kernels.expVector(src + r.lowerBound, dst + r.lowerBound, r.count)
        }
        let y = out.storage  // not `out`: the closure must not retain its own tensor
        return out.recorded(from: [a]) { g in
            let (da, acc) = a.gradDestination(), pg = g.data, py = y.pointer
            emitGrad(da, accumulate: acc, a.count) { pg[$0] * py[$0] }
        }
    }
}
