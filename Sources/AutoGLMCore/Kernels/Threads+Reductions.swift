import CBLAS
import Foundation

extension Kernels {
    /// Sum of squares in Double (for gradient norms).
    public static func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        var acc: Float = 0, total = 0.0
        for i in 0..<n {
            acc += x[i] * x[i]
            if i & 4095 == 4095 { total += Double(acc); acc = 0 }
        }
        return total + Double(acc)
    }

    /// x[i] *= s.
    public static func scale(_ x: UnsafeMutablePointer<Float>, _ n: Int, _ s: Float) {
        for i in 0..<n { x[i] *= s }
    }
}
