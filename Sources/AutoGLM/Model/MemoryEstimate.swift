import Foundation

/// What training a model shape on a batch needs in memory, estimated from the shape alone
/// before anything is allocated, so a model too large for the machine is refused with the
/// figures instead of aborting in the allocator. An upper bound for the usual layouts: grouped
/// query attention has fewer key/value weights, flash attention keeps no attention matrix.
public struct MemoryEstimate: Sendable, Equatable {
    /// Parameters (weights) of the model, as `GPT.parameterCount` counts them without grouped
    /// query attention.
    public let parameters: Double
    /// Bytes of the training state: weights, gradients and two optimizer slots (AdamW's), float32.
    public let stateBytes: Double
    /// Bytes of the activations a step keeps for the backward (float32): per layer and token the
    /// block's intermediate values and the attention matrix, plus the logits.
    public let activationBytes: Double

    /// The estimate for `model` trained on batches of `batch` rows.
    public init(model m: GPTConfig, batch: Int) {
        let d = Double(m.nEmbd), layers = Double(m.nLayer), tokens = Double(batch) * Double(m.blockSize)
        parameters = Double(m.vocabSize) * d + (m.positionEmbedding ? Double(m.blockSize) * d : 0)
            + layers * (12 * d * d + 2 * d) + d
        stateBytes = parameters * 4 * 4
        let perLayerToken = 20 * d + 2 * Double(m.nHead) * Double(m.blockSize)
        activationBytes = 4 * tokens * (layers * perLayerToken + 3 * Double(m.vocabSize))
    }

    /// Total bytes.
    public var bytes: Double { stateBytes + activationBytes }

    /// This machine's physical memory in bytes (nil if unknown).
    public static var physicalMemory: Double? {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && size > 0 ? Double(pages) * Double(size) : nil
    }

    /// Why training this shape cannot fit in `available` bytes, or nil.
    public func refusal(available: Double? = MemoryEstimate.physicalMemory) -> String? {
        guard let available, bytes > available else { return nil }
        func gib(_ b: Double) -> String { String(format: "%.1f GiB", b / 1_073_741_824) }
        return "model: the model (\(String(format: "%.3g", parameters)) parameters) and its batches need about \(gib(bytes)) "
            + "(\(gib(stateBytes)) weights, gradients and optimizer state, \(gib(activationBytes)) activations), more than this "
            + "machine's \(gib(available)) of memory: lower model.n_embd or model.n_layer, or train.batch_size or model.block_size"
    }
}
