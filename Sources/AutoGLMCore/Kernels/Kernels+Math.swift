import CKernels
import Foundation

/// Vectorised float32 math on raw pointers (8 lanes at a time), used by the softmax, exp,
/// cross-entropy and normalisation kernels.
extension Kernels {
    /// Eight float32 lanes.
    public typealias Vec = SIMD8<Float>

    /// Loads 8 floats from `p` (no alignment needed).
    @inline(__always) @usableFromInline
    static func load(_ p: UnsafePointer<Float>) -> Vec {
        UnsafeRawPointer(p).loadUnaligned(as: Vec.self)
    }

    /// Stores 8 floats at `p` (no alignment needed).
    @inline(__always) @usableFromInline
    static func store(_ v: Vec, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec.self)
    }

    /// Loads the first `n` (< 8) floats of `p`, filling the other lanes with `fill`.
    @inline(__always) @usableFromInline
    static func loadPartial(_ p: UnsafePointer<Float>, _ n: Int, fill: Float) -> Vec {
        var v = Vec(repeating: fill)
        for i in 0..<n { v[i] = p[i] }
        return v
    }

    /// Stores the first `n` (< 8) lanes of `v` at `p`.
    @inline(__always) @usableFromInline
    static func storePartial(_ v: Vec, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { p[i] = v[i] }
    }

    /// Lane-wise maximum (b where a < b). Unlike the standard library's `pointwiseMax`, which
    /// compiles to a scalar loop, this is a compare and a blend; a NaN in b is ignored.
    @inline(__always) @usableFromInline
    static func vmax(_ a: Vec, _ b: Vec) -> Vec { a.replacing(with: b, where: a .< b) }

    /// Lane-wise minimum (b where b < a); a NaN in b is ignored.
    @inline(__always) @usableFromInline
    static func vmin(_ a: Vec, _ b: Vec) -> Vec { a.replacing(with: b, where: b .< a) }

    /// e^x on 8 lanes (Cephes expf polynomial, about 1 ulp over the normal range): exact 0 below
    /// -103.97 (so e^-inf = 0), +inf above 88.72, NaN for NaN.
    @inline(__always) @usableFromInline
    static func simdExp(_ x: Vec) -> Vec {
        let hi = Vec(repeating: 88.722_839), lo = Vec(repeating: -103.972_08)
        let xc = vmin(vmax(x, lo), hi)
        // n = round(x / ln 2) through the 1.5 * 2^23 trick (no SSE4.1 rounding needed).
        let magic = Vec(repeating: 12_582_912)
        let t = xc * Vec(repeating: 1.442_695_04) + magic
        let n = t - magic
        var r = xc - n * Vec(repeating: 0.693_359_375)
        r = r - n * Vec(repeating: -2.121_944_4e-4)
        var p = Vec(repeating: 1.987_569_15e-4)
        p = p * r + Vec(repeating: 1.398_199_95e-3)
        p = p * r + Vec(repeating: 8.333_451_9e-3)
        p = p * r + Vec(repeating: 4.166_579_59e-2)
        p = p * r + Vec(repeating: 1.666_666_55e-1)
        p = p * r + Vec(repeating: 5.000_000_12e-1)
        let y = p * (r * r) + r + Vec(repeating: 1)
        // 2^n = 2^n1 * 2^n2 with both halves normal for n in [-150, 128].
        let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let n1 = ni &>> 1, n2 = ni &- n1
        let bias = SIMD8<Int32>(repeating: 127)
        let s1 = unsafeBitCast((n1 &+ bias) &<< 23, to: Vec.self)
        let s2 = unsafeBitCast((n2 &+ bias) &<< 23, to: Vec.self)
        var result = y * s1 * s2
        result.replace(with: 0, where: x .< lo)
        result.replace(with: .infinity, where: x .> hi)
        result.replace(with: x, where: x .!= x)
        return result
    }

    /// dst[i] = GELU(src[i]) = src[i]·Φ(src[i]) (the exact erf form, Φ to about 3e-7 relative
    /// error including the left tail); `dst` may equal `src`. The loop is C (the current path's
    /// `gelu`, Sources/CKernels/kernels_impl.h): Swift splits an 8-lane polynomial this long into
    /// 4-lane halves, about 2× slower.
    @inlinable
    public static func geluVector(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        table.pointee.gelu(src, dst, n)
    }

    /// `geluVector` that also stores slope[i] = GELU'(src[i]) = Φ + x·φ (C: `gelu_with_slope`);
    /// `slope` must not alias `src` or `dst`.
    @inlinable
    public static func geluWithSlopeVector(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                                           _ slope: UnsafeMutablePointer<Float>, _ n: Int) {
        table.pointee.gelu_with_slope(src, dst, slope, n)
    }

    /// dst[i] = e^(src[i]); `dst` may equal `src`.
    @inlinable
    public static func expVector(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n { store(simdExp(load(src + i)), dst + i); i += 8 }
        if i < n { storePartial(simdExp(loadPartial(src + i, n - i, fill: 0)), dst + i, n - i) }
    }

    /// dst[i] = e^(src[i] - shift) for i < n; returns the sum of the results (in Float, 8 lanes).
    @inlinable
    public static func expShiftedSum(_ src: UnsafePointer<Float>, shift: Float,
                                     _ dst: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
        let s = Vec(repeating: shift)
        var acc = Vec(repeating: 0)
        var i = 0
        while i + 8 <= n {
            let e = simdExp(load(src + i) - s)
            store(e, dst + i)
            acc += e
            i += 8
        }
        if i < n {
            let e = simdExp(loadPartial(src + i, n - i, fill: -.infinity) - s)
            storePartial(e, dst + i, n - i)
            acc += e
        }
        return acc.sum()
    }

    /// Σ e^(src[i] - shift) for i < n, without storing.
    @inlinable
    public static func expShiftedSum(_ src: UnsafePointer<Float>, shift: Float, _ n: Int) -> Float {
        let s = Vec(repeating: shift)
        var acc = Vec(repeating: 0)
        var i = 0
        while i + 8 <= n { acc += simdExp(load(src + i) - s); i += 8 }
        if i < n { acc += simdExp(loadPartial(src + i, n - i, fill: -.infinity) - s) }
        return acc.sum()
    }

    /// The largest of src[0..<n] (-inf when n == 0; NaNs are ignored).
    @inlinable
    public static func maxElement(_ src: UnsafePointer<Float>, _ n: Int) -> Float {
        var m = Vec(repeating: -.infinity)
        var i = 0
        while i + 8 <= n { m = vmax(m, load(src + i)); i += 8 }
        if i < n { m = vmax(m, loadPartial(src + i, n - i, fill: -.infinity)) }
        return m.max()
    }

    /// Σ src[i] for i < n (8 partial sums).
    @inlinable
    public static func sumElements(_ src: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = Vec(repeating: 0)
        var i = 0
        while i + 8 <= n { acc += load(src + i); i += 8 }
        if i < n { acc += loadPartial(src + i, n - i, fill: 0) }
        return acc.sum()
    }

    /// Σ a[i] * b[i] for i < n (8 partial sums).
    @inlinable
    public static func dotProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = Vec(repeating: 0)
        var i = 0
        while i + 8 <= n { acc += load(a + i) * load(b + i); i += 8 }
        if i < n { acc += loadPartial(a + i, n - i, fill: 0) * loadPartial(b + i, n - i, fill: 0) }
        return acc.sum()
    }

    /// Σ src[i] for i < n, accumulated in Double (for losses and means over many elements).
    @inlinable
    public static func sumElementsDouble(_ src: UnsafePointer<Float>, _ n: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i + 4 <= n {
            s0 += Double(src[i]); s1 += Double(src[i + 1]); s2 += Double(src[i + 2]); s3 += Double(src[i + 3])
            i += 4
        }
        while i < n { s0 += Double(src[i]); i += 1 }
        return (s0 + s1) + (s2 + s3)
    }
}
