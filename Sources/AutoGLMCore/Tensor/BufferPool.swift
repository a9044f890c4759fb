import Foundation

/// Recycles tensor buffers by exact size. A training step allocates the same set of buffers
/// every time; reusing them avoids the page faults and zeroing of fresh `mmap`ed memory that
/// large allocations otherwise cost on every step. Small buffers go straight to the allocator.
/// Pooled memory is capped (`limitBytes`); beyond it buffers are freed. Transient buffers
/// (`ScratchBuffer`) borrow any idle buffer that is large enough, so they add no sizes of their
/// own to what the pool holds.
public final class BufferPool: @unchecked Sendable {
    /// The process-wide pool used by `TensorStorage`.
    public static let shared = BufferPool(limitBytes: 1 << 30)

    /// Buffers smaller than this many floats are not pooled (the allocator is fast for them).
    static let minimumPooledCount = 4096

    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var pooledBytes = 0
    private var footprint = 0
    private var peakFootprint = 0
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
        return allocate(count)
    }

    /// A 64-byte aligned buffer of at least `count` floats and its real size, for a transient
    /// that is handed back (`give(_:count:)` with that size) before its thread takes anything
    /// else: the smallest idle buffer that holds `count`, whatever its size, else a new one.
    func borrow(atLeast count: Int) -> (pointer: UnsafeMutablePointer<Float>, count: Int) {
        if count >= Self.minimumPooledCount {
            lock.lock()
            if let size = free.lazy.filter({ $0.key >= count && !$0.value.isEmpty }).map(\.key).min(),
               let p = free[size]?.popLast() {
                pooledBytes -= size * 4
                lock.unlock()
                return (p, size)
            }
            lock.unlock()
        }
        return (allocate(count), count)
    }

    /// A new buffer of `count` floats, counted in the footprint when it is of a pooled size.
    private func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count >= Self.minimumPooledCount {
            lock.lock()
            footprint += count * 4
            peakFootprint = max(peakFootprint, footprint)
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
            footprint -= count * 4
            lock.unlock()
        }
        UnsafeMutableRawPointer(p).deallocate()
    }

    /// Frees every idle buffer.
    public func drain() {
        lock.lock(); defer { lock.unlock() }
        for list in free.values { list.forEach { UnsafeMutableRawPointer($0).deallocate() } }
        free = [:]
        footprint -= pooledBytes
        pooledBytes = 0
    }

    /// Bytes of the buffers of pooled sizes that exist now, in use or idle: what the tensors
    /// cost in memory, since idle buffers are not returned to the system.
    public var footprintBytes: Int { lock.lock(); defer { lock.unlock() }; return footprint }

    /// The largest `footprintBytes` since the pool was made or `resetPeak()` last ran.
    public var peakFootprintBytes: Int { lock.lock(); defer { lock.unlock() }; return peakFootprint }

    /// Starts a new `peakFootprintBytes` from the footprint now.
    public func resetPeak() {
        lock.lock(); defer { lock.unlock() }
        peakFootprint = footprint
    }

    /// Bytes currently held idle.
    public var idleBytes: Int { lock.lock(); defer { lock.unlock() }; return pooledBytes }
}
