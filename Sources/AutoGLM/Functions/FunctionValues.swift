import Foundation

/// A buffer of floats handed to a function's `const float *` or `float *` parameter, with its
/// length. The memory is the caller's and must stay valid during the call; an empty buffer is
/// passed as NULL with length 0.
public struct FloatBuffer {
    /// First element (nil when empty).
    public let base: UnsafeMutablePointer<Float>?
    /// Number of elements (passed as the length parameter).
    public let count: Int
    /// False for memory the function must not write: refused for a `float *` parameter.
    public let writable: Bool

    /// A buffer the function may only read (`const float *`).
    public init(readOnly buffer: UnsafeBufferPointer<Float>) {
        base = buffer.count > 0 ? UnsafeMutablePointer(mutating: buffer.baseAddress) : nil
        count = buffer.count
        writable = false
    }

    /// A buffer the function may read and write (`float *` or `const float *`).
    public init(_ buffer: UnsafeMutableBufferPointer<Float>) {
        base = buffer.count > 0 ? buffer.baseAddress : nil
        count = buffer.count
        writable = true
    }
}

/// One argument of a call, typed like the C parameter it binds to (see `FunctionBinding.call`
/// for which case each C type accepts).
public enum FunctionArgument {
    /// A signed integer; fits any integer parameter whose range holds the value.
    case int(Int64)
    /// An unsigned integer; fits any integer parameter whose range holds the value.
    case uint(UInt64)
    /// A `float`.
    case float(Float)
    /// A `double`.
    case double(Double)
    /// A `bool`.
    case bool(Bool)
    /// Text for a `const char *` (copied to a NUL-terminated C string for the call; must not
    /// contain NUL).
    case string(String)
    /// A float buffer for a `const float *` / `float *` parameter and its length.
    case buffer(FloatBuffer)

    /// The case's name, for messages ("a double", "a string").
    var caseDescription: String {
        switch self {
        case .int(let v): return "the integer \(v)"
        case .uint(let v): return "the unsigned integer \(v)"
        case .float(let v): return "the float \(v)"
        case .double(let v): return "the double \(v)"
        case .bool(let v): return "the bool \(v)"
        case .string(let s): return "the string \"\(s)\""
        case .buffer(let b): return "a buffer of \(b.count) floats"
        }
    }
}

/// What a call returned, typed by the prototype's return type.
public enum FunctionResult: Sendable, Equatable, CustomStringConvertible {
    /// `void`.
    case void
    /// A signed integer return, sign-extended from its declared width.
    case int(Int64)
    /// An unsigned integer return, zero-extended from its declared width.
    case uint(UInt64)
    /// A `float` return.
    case float(Float)
    /// A `double` return.
    case double(Double)
    /// A `bool` return.
    case bool(Bool)
    /// A `const char *` return, copied.
    case string(String)

    /// The value as text ("0.001", "-3", "true"; "void" for void): the form `autoglm call` prints.
    public var description: String {
        switch self {
        case .void: return "void"
        case .int(let v): return "\(v)"
        case .uint(let v): return "\(v)"
        case .float(let v): return "\(v)"
        case .double(let v): return "\(v)"
        case .bool(let v): return "\(v)"
        case .string(let s): return s
        }
    }

    /// The value as a double, for numeric results (nil for void and strings).
    public var number: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .uint(let v): return Double(v)
        case .float(let v): return Double(v)
        case .double(let v): return v
        case .bool(let v): return v ? 1 : 0
        case .void, .string: return nil
        }
    }
}
