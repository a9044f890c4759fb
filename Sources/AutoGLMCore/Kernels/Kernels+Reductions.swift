import CKernels
import Foundation

extension Kernels {
    /// Sum of squares in Double (for gradient norms): vectorised float blocks of 1024 summed in
    /// Double (C: the current path's `sum_squares`).
    public static func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        table.pointee.sum_squares(x, n)
    }

    /// x[i] *= s.
    public static func scale(_ x: UnsafeMutablePointer<Float>, _ n: Int, _ s: Float) {
        for i in 0..<n { x[i] *= s }
    }
}
