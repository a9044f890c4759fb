import Foundation

/// A pointwise function with its derivative (scaled by the incoming gradient), for `Ops.unary`.
protocol UnaryKernel {
    /// f(x).
    func f(_ x: Float) -> Float
    /// g · f'(x), given x and y = f(x) (whichever is cheaper to use).
    func grad(_ g: Float, _ x: Float, _ y: Float) -> Float
}

struct SinKernel: UnaryKernel {
    @inline(__always) func f(_ x: Float) -> Float { Foundation.sin(x) }
    @inline(__always) func grad(_ g: Float, _ x: Float, _ y: Float) -> Float { g * Foundation.cos(x) }
}

struct CosKernel: UnaryKernel {
    @inline(__always) func f(_ x: Float) -> Float { Foundation.cos(x) }
    @inline(__always) func grad(_ g: Float, _ x: Float, _ y: Float) -> Float { -g * Foundation.sin(x) }
}

struct SqrtKernel: UnaryKernel {
    @inline(__always) func f(_ x: Float) -> Float { x.squareRoot() }
    // PyTorch's formula, g / (2·√x): ±inf at x = 0 (NaN when g is 0 too).
    @inline(__always) func grad(_ g: Float, _ x: Float, _ y: Float) -> Float { g / (2 * y) }
}

struct RsqrtKernel: UnaryKernel {
    @inline(__always) func f(_ x: Float) -> Float { 1 / x.squareRoot() }
    // d/dx x^(-1/2) = -x^(-3/2) / 2 = -y³ / 2 (PyTorch's formula).
    @inline(__always) func grad(_ g: Float, _ x: Float, _ y: Float) -> Float { -0.5 * g * y * y * y }
}

extension Ops {
    /// Runs a pointwise op (in parallel when large) and records its backward, which keeps the
    /// output (not a copy) for kernels whose derivative is cheaper from it.
    static func unary<K: UnaryKernel>(_ k: K, _ a: Tensor) -> Tensor {
        let out = Tensor(uninitialized: a.shape)
        unaryMap(a.data, out.data, a.count) { k.f($0) }
        let y = out.storage  // not `out`: the closure must not retain its own tensor
        return out.recorded(from: [a]) { g in
            let (da, acc) = a.gradDestination(), pg = g.data, px = a.data, py = y.pointer
            emitGrad(da, accumulate: acc, a.count) { k.grad(pg[$0], px[$0], py[$0]) }
        }
    }

    /// sin(a), elementwise (the C library's `sinf`, within 1 ulp for every float, large
    /// arguments included); the gradient is g · cos(a).
    public static func sin(_ a: Tensor) -> Tensor { unary(SinKernel(), a) }

    /// cos(a), elementwise (the C library's `cosf`, within 1 ulp); the gradient is -g · sin(a).
    public static func cos(_ a: Tensor) -> Tensor { unary(CosKernel(), a) }

    /// √a, elementwise and correctly rounded (IEEE square root, like C's `sqrtf`): √(-0) = -0,
    /// √(+inf) = +inf, and a negative or NaN input gives NaN (no error, as in C and PyTorch).
    /// The gradient is g / (2·√a), PyTorch's formula: finite for a > 0; at a = 0 the derivative
    /// is +inf, so the gradient is +inf for g > 0, -inf for g < 0 and NaN for g = 0; NaN where
    /// a < 0.
    public static func sqrt(_ a: Tensor) -> Tensor { unary(SqrtKernel(), a) }

    /// 1 / √a, elementwise (the correctly rounded square root, then a division: two roundings,
    /// within 2 ulps). rsqrt(+0) = +inf, rsqrt(-0) = -inf, rsqrt(+inf) = 0, and a negative or
    /// NaN input gives NaN, as `1 / sqrtf(a)` in C and `torch.rsqrt`. The gradient is
    /// -g · rsqrt(a)³ / 2, PyTorch's formula: finite for a > 0 (down to about 1e-26, where the
    /// derivative itself leaves the float range), ∓inf at a = ±0 for g > 0 (NaN for g = 0),
    /// NaN where a < 0.
    public static func rsqrt(_ a: Tensor) -> Tensor { unary(RsqrtKernel(), a) }
}
