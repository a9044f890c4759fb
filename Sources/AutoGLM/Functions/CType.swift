import Foundation

/// A C type that a function prototype may use (see `CPrototype` for the grammar), with the
/// spelling it is shown in.
public struct CType: Sendable, Equatable, CustomStringConvertible {
    /// What the type is, as far as calling a function is concerned.
    public enum Kind: Sendable, Equatable {
        /// `void`: a return type, or `(void)` for "no parameters".
        case void
        /// `bool` / `_Bool` (one byte, 0 or 1).
        case bool
        /// A signed integer of `bits` bits: `int8_t` … `int64_t`, `int`, `long`.
        case signed(bits: Int)
        /// An unsigned integer of `bits` bits: `uint8_t` … `uint64_t`, `size_t`.
        case unsigned(bits: Int)
        /// `float` (IEEE binary32).
        case float
        /// `double` (IEEE binary64).
        case double
        /// `const char *`: NUL-terminated UTF-8 text, read-only for the callee.
        case string
        /// `const float *` (read-only) or `float *` (written by the callee): the pointer half of
        /// a buffer, always followed by its length parameter.
        case floatBuffer(writable: Bool)
    }

    /// What the type is.
    public var kind: Kind
    /// Canonical spelling: "int64_t", "const char *", "float *".
    public var spelling: String

    /// The spelling.
    public var description: String { spelling }

    /// A declaration of `name` with this type: "int64_t step", "const float *x".
    public func declaring(_ name: String) -> String {
        spelling.hasSuffix("*") ? spelling + name : spelling + " " + name
    }

    /// The types written without a `*`, by spelling. `int`, `long` and `size_t` take this
    /// machine's widths.
    static let scalars: [String: CType] = {
        var table: [String: Kind] = [
            "void": .void, "bool": .bool, "_Bool": .bool, "float": .float, "double": .double,
            "int": .signed(bits: CInt.bitWidth), "long": .signed(bits: CLong.bitWidth),
            "size_t": .unsigned(bits: Int.bitWidth),
        ]
        for bits in [8, 16, 32, 64] {
            table["int\(bits)_t"] = .signed(bits: bits)
            table["uint\(bits)_t"] = .unsigned(bits: bits)
        }
        return table.reduce(into: [:]) { $0[$1.key] = CType(kind: $1.value, spelling: $1.key) }
    }()

    /// `const char *`.
    static let string = CType(kind: .string, spelling: "const char *")
    /// `const float *`.
    static let constFloats = CType(kind: .floatBuffer(writable: false), spelling: "const float *")
    /// `float *`.
    static let floats = CType(kind: .floatBuffer(writable: true), spelling: "float *")

    /// Spellings a buffer's length parameter may have.
    static let lengthSpellings: Set<String> = ["size_t", "int64_t"]

    /// What to write instead of a refused type, where there is an obvious supported equivalent
    /// (the parser spells one type one way, so configs and docs agree).
    static func replacement(for spelling: String) -> String? {
        if spelling.hasPrefix("const "), let scalar = scalars[String(spelling.dropFirst(6))] {
            return "\(scalar.spelling) (a const parameter is passed like a plain one)"
        }
        let long = CLong.bitWidth, int = CInt.bitWidth
        let table: [String: String] = [
            "unsigned": "uint\(int)_t", "unsigned int": "uint\(int)_t", "signed": "int", "signed int": "int",
            "long int": "long", "signed long": "long", "signed long int": "long", "long signed int": "long",
            "unsigned long": "uint\(long)_t", "unsigned long int": "uint\(long)_t",
            "long long": "int64_t", "long long int": "int64_t", "signed long long": "int64_t",
            "unsigned long long": "uint64_t", "unsigned long long int": "uint64_t",
            "short": "int16_t", "short int": "int16_t", "signed short": "int16_t", "unsigned short": "uint16_t",
            "unsigned short int": "uint16_t", "char": "int8_t, or const char * for text", "signed char": "int8_t",
            "unsigned char": "uint8_t", "ssize_t": "int64_t", "ptrdiff_t": "int64_t", "intptr_t": "int64_t",
            "uintptr_t": "uint64_t", "long double": "double", "char *": "const char * (strings are read-only)",
            "float const *": "const float *", "char const *": "const char *",
            "double *": "float * (buffers hold float)", "const double *": "const float * (buffers hold float)",
        ]
        return table[spelling]
    }
}
