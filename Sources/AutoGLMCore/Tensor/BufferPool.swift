import Foundation

/// Recycles tensor buffers by exact size. A training step allocates the same set of buffers
/// every time; reusing them avoids the page faults and zeroing of fresh `mmap`ed memory that
/// large allocations otherwise cost on every step. Small buffers go straight to the allocator.
/// Pooled memory is capped (`limitBytes`); beyond it buffers are freed.
public final class BufferPool: @unchecked Sendable {
    /// The process-wide pool used by `TensorStorage`.
    public static let shared = BufferPool(limitBytes: 1 << 30)

    /// Buffers smaller than this many floats are not pooled (the allocator is fast for them).
    static let minimumPooledCount = 4096

    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var pooledBytes = 0
    private let limitBytes: Int
    private let lock = NSLock()

    /// A pool that keeps at most `limitBytes` of idle buffers.
    public init(limitBytes: Int) { self.limitBytes = limitBytes }

    /// A 64-byte aligned buffer of `count` floats (contents unspecified).
    func take(count: Int) -> UnsafeMutablePointer<Float> {
        if count >= Self.minimumPooledCount {
            lock.lock()
            if let p = free[count]?.popLast() {
                pooledBytes -= count * 4
                lock.unlock()
                return p
            }
            lock.unlock()
        }
        return UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
    }

    /// Returns a buffer obtained from `take(count:)`.
    func give(_ p: UnsafeMutablePointer<Float>, count: Int) {
        if count >= Self.minimumPooledCount {
            lock.lock()
            if pooledBytes + count * 4 <= limitBytes {
                free[count, default: []].append(p)
                pooledBytes += count * 4
                lock.unlock()
                return
            }
            lock.unlock()
        }
        UnsafeMutableRawPointer(p).deallocate()
    }

    /// Frees every idle buffer.
    public func drain() {
        lock.lock(); defer { lock.unlock() }
        for list in free.values { list.forEach { UnsafeMutableRawPointer($0).deallocate() } }
        free = [:]
        pooledBytes = 0
    }

    /// Bytes currently held idle.
    public var idleBytes: Int { lock.lock(); defer { lock.unlock() }; return pooledBytes }
}
