import Foundation

/// A transient float buffer for values a kernel needs only while it runs (the rounded operands
/// of a bf16 GEMM, its packed bfloat16 operand), borrowed from `BufferPool`'s idle buffers — the
/// smallest one large enough, whatever its size (`BufferPool.borrow(atLeast:)`) — and handed back
/// when the object goes. Held only across one kernel call, during which the calling thread
/// takes nothing else from the pool, so it reuses memory the pool keeps anyway instead of adding
/// buffers of its own sizes to it (which, never returned to the system, would raise the run's
/// peak memory). Another thread that wants the lent buffer's size meanwhile gets a new one.
final class ScratchBuffer {
    /// First element (contents unspecified until written).
    let pointer: UnsafeMutablePointer<Float>
    /// The borrowed buffer's real size, in floats (at least the count asked for).
    private let capacity: Int

    /// A buffer of at least `count` floats (64-byte aligned).
    init(count: Int) {
        (pointer, capacity) = BufferPool.shared.borrow(atLeast: Swift.max(count, 1))
    }

    deinit { BufferPool.shared.give(pointer, count: capacity) }
}
