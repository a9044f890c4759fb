import CAutoGLM
import Foundation

/// Reading the append-only structs of the ABI whose size the other side chose: a struct from a
/// library built against an older minor is shorter than the host's view of it, so it is copied
/// up to its `struct_size` into a zero-filled host struct (fields it does not have read as 0 /
/// NULL), never loaded whole past its end.
enum ABIStruct {
    /// The `T` at `pointer` whose filler declared `size` bytes: the first min(size, sizeof T)
    /// bytes, the rest zero.
    static func load<T>(_ type: T.Type, from pointer: UnsafeRawPointer, size: Int) -> T {
        let whole = MemoryLayout<T>.size
        let raw = UnsafeMutableRawPointer.allocate(byteCount: whole, alignment: MemoryLayout<T>.alignment)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: whole)
        raw.copyMemory(from: pointer, byteCount: max(0, min(size, whole)))
        return raw.load(as: T.self)
    }

    /// The struct at `pointer`, which starts with its `struct_size` (a `size_t`).
    static func load<T>(_ type: T.Type, sizedAt pointer: UnsafeRawPointer) -> T {
        load(type, from: pointer, size: pointer.load(as: Int.self))
    }

    /// Bytes of `T` up to and including the field at `offset` of `fieldSize` bytes: the smallest
    /// `struct_size` that holds the field (the C side's AGLM_HAS_FIELD).
    static func size(through offset: Int?, _ fieldSize: Int) -> Int { (offset ?? 0) + fieldSize }

    /// sizeof(aglm_param_spec) in ABI 1.0 (up to `list_length`).
    static let paramSpecV10 = size(through: MemoryLayout<aglm_param_spec>.offset(of: \.list_length), MemoryLayout<Int>.size)
    /// sizeof(aglm_param_spec) with the ABI 1.2 exclusive bounds.
    static let paramSpecV12 = size(through: MemoryLayout<aglm_param_spec>.offset(of: \.max_exclusive), MemoryLayout<Int32>.size)
    /// sizeof(aglm_attention_vtable) in ABI 1.0 (up to `free_saved`).
    static let attentionVtableV10 = size(through: MemoryLayout<aglm_attention_vtable>.offset(of: \.free_saved),
                                         MemoryLayout<UnsafeRawPointer>.size)
}
