/// Turns the little-endian elements of a safetensors tensor into float32, for the element
/// types that hold real numbers AutoGLM can load: F32 (copied), F16 and BF16 (widened exactly)
/// and F64 (rounded to the nearest float32; beyond float32's range it becomes ±infinity).
enum Float32Conversion {
    /// The element types `convert` accepts.
    static let loadable: [SafetensorsDType] = [.f32, .f16, .bf16, .f64]

    /// Writes the `bytes.count / (dtype.bits / 8)` elements of `bytes` (any alignment), of
    /// type `dtype` (one of `loadable`), to `output` as float32.
    static func convert(_ bytes: UnsafeRawBufferPointer, from dtype: SafetensorsDType, into output: UnsafeMutablePointer<Float>) {
        switch dtype {
        case .f32:
            for i in 0..<bytes.count / 4 {
                output[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
        case .f16:
            for i in 0..<bytes.count / 2 {
                output[i] = float(half: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .bf16:
            for i in 0..<bytes.count / 2 {
                let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                output[i] = Float(bitPattern: UInt32(bits) << 16)
            }
        case .f64:
            for i in 0..<bytes.count / 8 {
                output[i] = Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
        default:
            preconditionFailure("Float32Conversion: \(dtype.rawValue) is not loadable (callers check `loadable`)")
        }
    }

    /// The float32 value of IEEE 754 binary16 `bits` (exact; NaNs keep their payload and
    /// become quiet, as the x86 F16C conversion does).
    static func float(half bits: UInt16) -> Float {
        let sign = UInt32(bits >> 15) << 31
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits) & 0x3FF
        switch exponent {
        case 0:  // zero or subnormal: mantissa · 2^-24, exact in float32
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        case 0x1F:  // infinity or NaN
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13 | (mantissa != 0 ? 0x40_0000 : 0))
        default:
            return Float(bitPattern: sign | (exponent + 127 - 15) << 23 | mantissa << 13)
        }
    }
}
