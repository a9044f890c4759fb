import Foundation

/// The program's C arguments, each checked before use: NULL where a value is required, arrays
/// whose count and pointer disagree, counts too large to be meant.
enum CArguments {
    /// The largest item count accepted for an array argument: anything larger is an
    /// uninitialised or garbage count, refused before the array is read.
    static let maximumCount = 1 << 16

    /// A required string.
    static func string(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String {
        guard let pointer else { throw APIError.invalid("\(name) is NULL") }
        return String(cString: pointer)
    }

    /// An optional string (NULL: nil).
    static func optionalString(_ pointer: UnsafePointer<CChar>?) -> String? { pointer.map { String(cString: $0) } }

    /// The `count` items at `base` (nothing for count 0, whatever `base` is).
    static func array<T>(_ base: UnsafePointer<T>?, count: Int, _ name: String) throws -> UnsafeBufferPointer<T> {
        guard count > 0 else { return UnsafeBufferPointer(start: nil, count: 0) }
        guard count <= maximumCount else {
            throw APIError.invalid("\(name): count \(count) is implausible (at most \(maximumCount)); set it to the number of items, 0 for none")
        }
        guard let base else { throw APIError.invalid("\(name) is NULL but its count is \(count)") }
        return UnsafeBufferPointer(start: base, count: count)
    }

    /// The `count` strings at `base`, none of them NULL.
    static func strings(_ base: UnsafePointer<UnsafePointer<CChar>?>?, count: Int, _ name: String) throws -> [String] {
        try array(base, count: count, name).enumerated().map { try string($0.element, "\(name)[\($0.offset)]") }
    }

    /// A required out-pointer.
    static func out<T>(_ pointer: UnsafeMutablePointer<T>?, _ name: String) throws -> UnsafeMutablePointer<T> {
        guard let pointer else { throw APIError.invalid("\(name) is NULL") }
        return pointer
    }

    /// `index` after checking it is below `count`.
    static func index(_ index: Int, count: Int, _ what: String) throws -> Int {
        guard index >= 0, index < count else {
            throw APIError.invalid("index \(index) is out of range: the session has \(count) \(what)")
        }
        return index
    }
}

/// C memory the library lends the program (strings and arrays), freed all at once: when the
/// lending period ends, or with its owner.
final class LentMemory {
    /// Every block lent, each from `malloc`/`strdup`.
    private var blocks: [UnsafeMutableRawPointer] = []

    /// `text` as a C string.
    func string(_ text: String) -> UnsafePointer<CChar> {
        let copy = strdup(text)!
        blocks.append(copy)
        return UnsafePointer(copy)
    }

    /// `text` as a C string, or NULL for nil.
    func optionalString(_ text: String?) -> UnsafePointer<CChar>? { text.map { string($0) } }

    /// `values` as a C array (a valid pointer even when empty).
    func array<T>(_ values: [T]) -> UnsafePointer<T> {
        let memory = malloc(max(values.count, 1) * MemoryLayout<T>.stride)!
        blocks.append(memory)
        let typed = memory.bindMemory(to: T.self, capacity: max(values.count, 1))
        for (i, value) in values.enumerated() { (typed + i).initialize(to: value) }
        return UnsafePointer(typed)
    }

    /// Frees everything lent so far.
    func release() {
        for block in blocks { free(block) }
        blocks.removeAll()
    }

    deinit { release() }
}
