import AutoGLMCore
import Foundation

/// A GPT language model as in nanoGPT: token (+ position) embeddings, pre-LayerNorm blocks whose
/// attention is a plugin component, a 4x GELU MLP, a final LayerNorm and a head tied to the token
/// embedding. Bias-free, like nanoGPT with `bias=False`.
public final class GPT {
    /// Model shape.
    public let config: GPTConfig
    /// Token embedding [vocab, n_embd], also the output head.
    public let tokenEmbedding: Tensor
    /// Position embedding [block_size, n_embd], if enabled.
    public let positionEmbedding: Tensor?
    /// The transformer blocks.
    public let blocks: [TransformerBlock]
    /// Final LayerNorm weight [n_embd].
    public let finalNorm: Tensor
    /// Whether the blocks' activations are recomputed in the backward (`train.activation_checkpointing`).
    public var activationCheckpointing = ActivationCheckpointing.none

    /// Builds the model with nanoGPT's initialisation: N(0, 0.02) for matrices and embeddings,
    /// residual projections N(0, 0.02/sqrt(2·n_layer)), LayerNorm weights 1. One attention
    /// instance per block is created from `attention` through `registry`.
    public init(config: GPTConfig, attention: ComponentSelection, registry: PluginRegistry, seed: UInt64) throws {
        self.config = config
        var rng = RandomGenerator(seed: seed)
        let c = config.nEmbd
        tokenEmbedding = GPT.parameter("token_embedding.weight", .randn([config.vocabSize, c], std: 0.02, rng: &rng))
        positionEmbedding = config.positionEmbedding
            ? GPT.parameter("position_embedding.weight", .randn([config.blockSize, c], std: 0.02, rng: &rng)) : nil
        var blocks: [TransformerBlock] = []
        for layer in 0..<config.nLayer {
            let attn = try AttentionInstance(registry: registry, name: attention.name, parameters: attention.parameters,
                                             nHead: config.nHead, headDim: config.headDim, blockSize: config.blockSize,
                                             layer: layer, nLayer: config.nLayer)
            blocks.append(TransformerBlock(config: config, layer: layer, attention: attn, rng: &rng))
        }
        self.blocks = blocks
        finalNorm = GPT.parameter("final_norm.weight", GPT.ones([c]))
    }

    /// Every trainable tensor, in a fixed order, each with its dotted name.
    public var parameters: [Tensor] {
        [tokenEmbedding] + (positionEmbedding.map { [$0] } ?? []) + blocks.flatMap(\.parameters) + [finalNorm]
    }

    /// What each of `parameters` is for, index for index (the tied token embedding is also the
    /// head), as optimizers and callbacks see it (`aglm_param_info.role`).
    public var parameterRoles: [ParameterRole] {
        [[.embedding, .head]] + (positionEmbedding.map { _ in [.embedding] } ?? []) + blocks.flatMap(\.parameterRoles) + [.norm]
    }

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Logits [batch, seq, vocab] for `ids` (batch·seq token ids, row-major).
    public func logits(ids: [Int32], batch: Int, seq: Int) throws -> Tensor {
        guard seq >= 1, seq <= config.blockSize, ids.count == batch * seq else {
            throw TensorError(message: "forward: \(ids.count) ids for batch \(batch) x seq \(seq) (block_size \(config.blockSize))")
        }
        var x = try embed(ids, batch: batch, seq: seq, from: 0)
        for block in blocks {
            switch activationCheckpointing {
            case .none: x = try block.forward(x)
            case .blocks: x = try Ops.checkpoint(x, parameters: block.parameters) { try block.forward($0) }
            }
        }
        return try head(x)
    }

    /// Token (+ position) embeddings [batch, seq, n_embd] of `ids` at positions `first` ..<
    /// `first + seq`.
    private func embed(_ ids: [Int32], batch: Int, seq: Int, from first: Int) throws -> Tensor {
        let x = try Ops.embedding(tokenEmbedding, ids: ids, shape: [batch, seq])
        guard let pos = positionEmbedding else { return x }
        return try Ops.add(x, try Ops.slice(pos, dim: 0, start: first, length: seq))
    }

    /// Final LayerNorm and the tied head: logits [batch, seq, vocab].
    private func head(_ x: Tensor) throws -> Tensor {
        try Ops.linear(try Ops.layerNorm(x, weight: finalNorm, bias: nil, eps: 1e-5), tokenEmbedding)
    }

    /// Whether every block's attention component can decode incrementally (ABI 1.2 `decode`).
    public var decodes: Bool { blocks.allSatisfy(\.attention.decodes) }

    /// Logits [1, n, vocab] of the n tokens `ids` that continue the sequence held in `cache`
    /// (at its position), through every block's incremental `decode`; the cache then holds
    /// them too. Not recorded on the tape.
    /// - Throws: `TensorError` when the sequence would outgrow the cache (the block size), or
    ///   the plugin's error.
    public func decode(ids: [Int32], cache: KVCache) throws -> Tensor {
        let n = ids.count, position = cache.position
        guard n >= 1, position + n <= cache.capacity else {
            throw TensorError(message: "decode: \(n) tokens after \(position) do not fit the cache of \(cache.capacity) positions")
        }
        var x = try embed(ids, batch: 1, seq: n, from: position)
        for (layer, block) in blocks.enumerated() { x = try block.decode(x, cache: cache, layer: layer, position: position) }
        cache.advance(by: n)
        return try head(x)
    }

    /// Mean cross-entropy of predicting `targets` from `ids` (both batch·seq, row-major).
    public func loss(ids: [Int32], targets: [Int32], batch: Int, seq: Int) throws -> (loss: Tensor, logits: Tensor) {
        let logits = try logits(ids: ids, batch: batch, seq: seq)
        let flat = try Ops.reshape(logits, [batch * seq, config.vocabSize])
        return (try Ops.crossEntropy(flat, targets: targets), flat)
    }

    /// A named leaf tensor that requires a gradient.
    static func parameter(_ name: String, _ t: Tensor) -> Tensor {
        t.name = name
        t.requiresGrad = true
        return t
    }

    /// A tensor of ones.
    static func ones(_ shape: [Int]) -> Tensor {
        let t = Tensor(zeros: shape)
        t.data.update(repeating: 1, count: t.count)
        return t
    }
}
