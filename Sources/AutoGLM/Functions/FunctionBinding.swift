import CFFI
import Foundation

/// A C function bound to its parsed prototype, callable with typed arguments through libffi.
///
/// The call interface (`ffi_cif`) is prepared once, here, with `ffi_prep_cif`; the argument
/// type array it points to is owned by the binding and lives as long as the cif. A call only
/// reads the cif, and each call keeps its argument values, string copies and return buffer on
/// its own stack, so **one binding may be called from several threads at once** (cffi, too,
/// keeps one cif per function type and calls through it with the GIL released). Whether the *function* tolerates
/// that is its own contract: `register_function` in plugin.h requires it.
///
/// Argument rules: an integer parameter takes `.int` or `.uint` when the value is within the
/// declared type's range; `float` takes `.float`; `double` takes `.double`; `bool` takes
/// `.bool`; `const char *` takes `.string`; a buffer takes `.buffer` (a `float *` only a
/// writable one). Each value is stored with exactly the declared type's width and each
/// `avalues[i]` points to it. Integer returns are read through an `ffi_arg`-sized, aligned
/// buffer (libffi widens returns narrower than a register to `ffi_arg`) and cut back to the
/// declared width, so narrow signed returns keep their sign.
public final class FunctionBinding: @unchecked Sendable {
    /// The prototype the function is called with.
    public let prototype: CPrototype
    /// The function's address.
    public let address: UnsafeRawPointer
    private let entry: @convention(c) () -> Void
    private let cif: UnsafeMutablePointer<ffi_cif>
    /// libffi's argument types: one per scalar parameter, two per buffer (pointer, length).
    private let argumentTypes: UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>
    private let slotCount: Int
    /// Per logical parameter: its kind and, for a buffer, its length's width in bits (else 0).
    /// Kept apart from `prototype` so that a call copies no strings.
    private let plan: [(kind: CType.Kind, lengthBits: Int)]
    private let returnKind: CType.Kind
    private let names: [String]

    /// Prepares the call interface of the function at `address` declared by `prototype`.
    /// Throws if libffi refuses it (it does not for the prototypes the parser accepts).
    public init(prototype: CPrototype, address: UnsafeRawPointer) throws {
        self.prototype = prototype
        self.address = address
        entry = unsafeBitCast(address, to: (@convention(c) () -> Void).self)
        let types = prototype.parameters.flatMap { p in [p.type] + (p.length.map { [$0.type] } ?? []) }
        slotCount = types.count
        plan = prototype.parameters.map { ($0.type.kind, $0.length.map { Self.bits(of: $0.type) } ?? 0) }
        returnKind = prototype.returnType.kind
        names = prototype.parameters.map(\.name)
        let argumentTypes = UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>.allocate(capacity: max(1, types.count))
        for (i, type) in types.enumerated() { argumentTypes[i] = Self.ffiType(type) }
        let cif = UnsafeMutablePointer<ffi_cif>.allocate(capacity: 1)
        let status = ffi_prep_cif(cif, FFI_DEFAULT_ABI, UInt32(types.count), Self.ffiType(prototype.returnType), argumentTypes)
        guard status == FFI_OK else {
            cif.deallocate(); argumentTypes.deallocate()  // before self is complete: deinit will not run
            throw FunctionCallError(prototype, "libffi refused the prototype (ffi_prep_cif status \(status.rawValue))")
        }
        self.cif = cif
        self.argumentTypes = argumentTypes
    }

    deinit {
        cif.deallocate()
        argumentTypes.deallocate()
    }

    /// Calls the function with one argument per logical parameter, in order.
    public func call(_ arguments: [FunctionArgument]) throws -> FunctionResult {
        guard arguments.count == plan.count else {
            throw FunctionCallError(prototype, "\(arguments.count) arguments given for \(plan.count) parameters")
        }
        // A slot per libffi argument (every value fits in 8 bytes), then two for the return
        // value: at least an ffi_arg, 8-byte aligned.
        return try withUnsafeTemporaryAllocation(of: UInt64.self, capacity: slotCount + 2) { slots in
            try withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer?.self, capacity: max(1, slotCount)) { values in
                var strings: [UnsafeMutablePointer<CChar>] = []
                defer { for copy in strings { free(copy) } }
                var slot = 0
                for i in 0..<plan.count {
                    let raw = UnsafeMutableRawPointer(slots.baseAddress! + slot)
                    values[slot] = raw
                    slot += 1
                    try store(arguments[i], parameter: i, into: raw, strings: &strings)
                    if plan[i].lengthBits > 0, case .buffer(let buffer) = arguments[i] {
                        let length = UnsafeMutableRawPointer(slots.baseAddress! + slot)
                        values[slot] = length
                        slot += 1
                        Self.storeInteger(UInt64(buffer.count), bits: plan[i].lengthBits, into: length)
                    }
                }
                let ret = UnsafeMutableRawPointer(slots.baseAddress! + slotCount)
                ffi_call(cif, entry, ret, values.baseAddress)
                return try result(from: UnsafeRawPointer(ret))
            }
        }
    }

    /// Calls the function with arguments bound by parameter name; a missing or unknown name is
    /// an error naming it.
    public func call(named arguments: [String: FunctionArgument]) throws -> FunctionResult {
        var ordered: [FunctionArgument] = []
        ordered.reserveCapacity(names.count)
        for name in names {
            guard let argument = arguments[name] else { throw namingError(arguments, missing: name) }
            ordered.append(argument)
        }
        if arguments.count != names.count { throw namingError(arguments, missing: nil) }
        return try call(ordered)
    }

    /// The error for arguments that do not match the parameter names: an unknown name first
    /// (it is usually a typo of the missing one), else the missing one.
    private func namingError(_ arguments: [String: FunctionArgument], missing: String?) -> FunctionCallError {
        if let extra = arguments.keys.sorted().first(where: { !names.contains($0) }) {
            return FunctionCallError(prototype, "unknown argument '\(extra)'\(Suggestion.hint(for: extra, in: names))")
        }
        let parameter = prototype.parameters.first { $0.name == missing }!
        return FunctionCallError(prototype, "missing argument '\(parameter.name)' (\(parameter.type.spelling))")
    }

    /// Writes `argument` into `slot` with exactly the type of parameter `index`.
    private func store(_ argument: FunctionArgument, parameter index: Int, into slot: UnsafeMutableRawPointer,
                       strings: inout [UnsafeMutablePointer<CChar>]) throws {
        func mistyped(_ expected: String) -> FunctionCallError {
            let parameter = prototype.parameters[index]
            return FunctionCallError(prototype, "argument '\(parameter.name)' is \(parameter.type.spelling) and needs \(expected), not \(argument.caseDescription)")
        }
        func failure(_ detail: String) -> FunctionCallError {
            FunctionCallError(prototype, "argument '\(prototype.parameters[index].name)'\(detail)")
        }
        let kind = plan[index].kind
        switch (kind, argument) {
        case (.signed(let bits), .int), (.signed(let bits), .uint), (.unsigned(let bits), .int), (.unsigned(let bits), .uint):
            let signed = kind == .signed(bits: bits)
            guard let pattern = Self.integerPattern(argument, signed: signed, bits: bits) else {
                let range = signed ? "\(-(Int128(1) << (bits - 1)))...\((Int128(1) << (bits - 1)) - 1)" : "0...\((Int128(1) << bits) - 1)"
                throw failure(": \(argument.caseDescription) is outside \(prototype.parameters[index].type.spelling)'s range \(range)")
            }
            Self.storeInteger(pattern, bits: bits, into: slot)
        case (.signed, _), (.unsigned, _): throw mistyped("an integer")
        case (.bool, .bool(let b)): slot.storeBytes(of: b ? 1 : 0, as: UInt8.self)
        case (.bool, _): throw mistyped("a bool")
        case (.float, .float(let f)): slot.storeBytes(of: f, as: Float.self)
        case (.float, _): throw mistyped("a float")
        case (.double, .double(let d)): slot.storeBytes(of: d, as: Double.self)
        case (.double, _): throw mistyped("a double")
        case (.string, .string(let s)):
            guard !s.utf8.contains(0) else { throw failure(" contains a NUL character") }
            guard let copy = strdup(s) else { throw failure(": out of memory copying it") }
            strings.append(copy)
            slot.storeBytes(of: UnsafePointer(copy), as: UnsafePointer<CChar>.self)
        case (.string, _): throw mistyped("a string")
        case (.floatBuffer(let writable), .buffer(let buffer)):
            guard !writable || buffer.writable else { throw failure(" is float * (the function writes it): pass a writable buffer") }
            slot.storeBytes(of: buffer.base, as: UnsafeMutablePointer<Float>?.self)
        case (.floatBuffer, _): throw mistyped("a float buffer")
        case (.void, _): throw failure(" is void")
        }
    }

    /// The return value, read from libffi's return buffer.
    private func result(from ret: UnsafeRawPointer) throws -> FunctionResult {
        switch returnKind {
        case .void: return .void
        case .bool: return .bool(UInt8(truncatingIfNeeded: ret.load(as: ffi_arg.self)) != 0)
        case .signed(let bits):
            let shift = UInt64(64 - bits)
            return .int(Int64(bitPattern: UInt64(ret.load(as: ffi_arg.self)) << shift) >> shift)
        case .unsigned(let bits):
            let shift = UInt64(64 - bits)
            return .uint((UInt64(ret.load(as: ffi_arg.self)) << shift) >> shift)
        case .float: return .float(ret.load(as: Float.self))
        case .double: return .double(ret.load(as: Double.self))
        case .string:
            guard let text = ret.load(as: UnsafePointer<CChar>?.self) else {
                throw FunctionCallError(prototype, "returned a NULL string")
            }
            return .string(String(cString: text))
        case .floatBuffer: throw FunctionCallError(prototype, "a buffer cannot be returned")
        }
    }

    /// Width in bits of an integer type (8 for bool).
    private static func bits(of type: CType) -> Int {
        switch type.kind {
        case .signed(let bits), .unsigned(let bits): return bits
        default: return 8
        }
    }

    /// The two's-complement bit pattern of an integer argument if it is within the range of a
    /// `bits`-bit (un)signed type; nil if not.
    private static func integerPattern(_ argument: FunctionArgument, signed: Bool, bits: Int) -> UInt64? {
        let shift = UInt64(64 - bits)  // a value fits when it survives losing the top bits and extending back
        switch argument {
        case .int(let v):
            if signed { return (v << shift) >> shift == v ? UInt64(bitPattern: v) : nil }
            return v >= 0 && (UInt64(v) << shift) >> shift == UInt64(v) ? UInt64(v) : nil
        case .uint(let v):
            if signed { return v <= UInt64(Int64.max) && (Int64(v) << shift) >> shift == Int64(v) ? v : nil }
            return (v << shift) >> shift == v ? v : nil
        default: return nil
        }
    }

    /// Stores the low `bits` bits of `pattern` as an integer of that width.
    private static func storeInteger(_ pattern: UInt64, bits: Int, into slot: UnsafeMutableRawPointer) {
        switch bits {
        case 8: slot.storeBytes(of: UInt8(truncatingIfNeeded: pattern), as: UInt8.self)
        case 16: slot.storeBytes(of: UInt16(truncatingIfNeeded: pattern), as: UInt16.self)
        case 32: slot.storeBytes(of: UInt32(truncatingIfNeeded: pattern), as: UInt32.self)
        default: slot.storeBytes(of: pattern, as: UInt64.self)
        }
    }

    /// libffi's type object for a C type (C's bool is one byte on every ABI libffi supports here).
    private static func ffiType(_ type: CType) -> UnsafeMutablePointer<ffi_type> {
        switch type.kind {
        case .void: return aglm_ffi_void()
        case .bool: return aglm_ffi_uint8()
        case .signed(8): return aglm_ffi_sint8()
        case .signed(16): return aglm_ffi_sint16()
        case .signed(32): return aglm_ffi_sint32()
        case .signed: return aglm_ffi_sint64()
        case .unsigned(8): return aglm_ffi_uint8()
        case .unsigned(16): return aglm_ffi_uint16()
        case .unsigned(32): return aglm_ffi_uint32()
        case .unsigned: return aglm_ffi_uint64()
        case .float: return aglm_ffi_float()
        case .double: return aglm_ffi_double()
        case .string, .floatBuffer: return aglm_ffi_pointer()
        }
    }
}
