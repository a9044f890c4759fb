import CAutoGLM
import Foundation

/// How the library reads and writes the structs that cross the C API, by their `struct_size`
/// (the first field of each; autoglm.h's conventions): it never touches a byte beyond the size
/// the program declared, and refuses a size smaller than the struct's first version.
///
/// Every struct of autoglm.h is as it was in version 1.0, so a struct's 1.0 size is its size
/// today. A minor that appends fields to a struct makes `size(of:minor:)` return the older
/// sizes for the older minors.
enum StructLayout {
    /// The size of `T` in the header of `minor` (the 1.0 size for every struct so far).
    static func size<T>(of type: T.Type, minor: UInt32) -> Int { MemoryLayout<T>.size }

    /// The smallest struct_size accepted for `T`: its 1.0 size.
    static func minimumSize<T>(of type: T.Type) -> Int { size(of: type, minor: 0) }

    /// The struct at `pointer` and the struct_size the program declared in it, after checking it.
    /// - Throws: `APIError` (AGLM_ERR_INVALID_ARGUMENT) for NULL or a size below the minimum.
    static func declared<T>(_ pointer: UnsafePointer<T>?, _ name: String) throws -> (pointer: UnsafeRawPointer, size: Int) {
        guard let pointer else { throw APIError.invalid("\(name) is NULL") }
        let size = UnsafeRawPointer(pointer).load(as: Int.self)
        guard size >= minimumSize(of: T.self) else {
            throw APIError.invalid("\(name)->struct_size is \(size), smaller than the \(minimumSize(of: T.self)) bytes of its first version: prepare it with its _init function (or set struct_size = sizeof)")
        }
        return (UnsafeRawPointer(pointer), size)
    }

    /// The struct at `pointer` as the library sees it: `defaults` overlaid with the bytes the
    /// program declared (so fields newer than the program's header keep their defaults).
    static func read<T>(_ pointer: UnsafePointer<T>?, _ name: String, defaults: T) throws -> T {
        let (source, size) = try declared(pointer, name)
        var value = defaults
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(start: source, count: min(size, $0.count))) }
        return value
    }

    /// Writes `value` into the program's struct at `pointer`, only up to the size it declared,
    /// keeping its struct_size.
    static func write<T>(_ value: T, to pointer: UnsafeMutablePointer<T>?, _ name: String) throws {
        let (target, size) = try declared(UnsafePointer(pointer), name)
        var value = value
        withUnsafeMutableBytes(of: &value) { bytes in
            bytes.storeBytes(of: size, as: Int.self)
            UnsafeMutableRawPointer(mutating: target).copyMemory(from: bytes.baseAddress!, byteCount: min(size, bytes.count))
        }
    }

    /// An `_init` function's work: checks the program's `version`, then fills `*pointer` with
    /// `defaults` up to the struct's size in that version, struct_size included.
    static func initialize<T>(_ pointer: UnsafeMutablePointer<T>?, _ name: String, version: UInt32, defaults: T) throws {
        guard let pointer else { throw APIError.invalid("\(name) is NULL") }
        let bytes = size(of: T.self, minor: try APIVersion.check(version))
        var value = defaults
        withUnsafeMutableBytes(of: &value) { raw in
            raw.storeBytes(of: bytes, as: Int.self)
            UnsafeMutableRawPointer(pointer).copyMemory(from: raw.baseAddress!, byteCount: bytes)
        }
    }
}
