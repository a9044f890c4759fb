import AutoGLMCore
import Foundation

/// The key/value cache of one sequence for incremental decoding: per transformer block, a key
/// and a value buffer [1, kv_heads, block_size, head_dim] that the host allocates and hands to
/// that block's attention `decode` (ABI 1.2); what the rows hold is the component's business
/// (keys as given, rotated keys, ...). `position` counts the positions decoded so far.
public final class KVCache {
    /// Positions the cache holds at most (the model's block size).
    public let capacity: Int
    /// Positions decoded so far.
    public private(set) var position = 0
    /// Per block: the key buffer.
    let keys: [Tensor]
    /// Per block: the value buffer.
    let values: [Tensor]

    /// An empty cache for one sequence of `model`.
    public init(model: GPT) {
        capacity = model.config.blockSize
        let shapes = model.blocks.map { [1, $0.attention.kvHeads, model.config.blockSize, model.config.headDim] }
        keys = shapes.map { Tensor(zeros: $0) }
        values = shapes.map { Tensor(zeros: $0) }
    }

    /// Records `n` more decoded positions.
    func advance(by n: Int) { position += n }

    /// Starts a new sequence (the rows become stale; decode overwrites them).
    public func reset() { position = 0 }
}
