import AutoGLMCore
import Foundation

/// One pre-LayerNorm transformer block: x + attn(ln1(x)), then + mlp(ln2(x)).
public final class TransformerBlock {
    /// LayerNorm before attention [n_embd].
    public let norm1: Tensor
    /// Fused query/key/value projection [(n_head + 2·kv_heads)·head_dim, n_embd].
    public let qkv: Tensor
    /// Attention output projection [n_embd, n_embd] (a residual projection).
    public let proj: Tensor
    /// LayerNorm before the MLP [n_embd].
    public let norm2: Tensor
    /// MLP expansion [4·n_embd, n_embd].
    public let fc: Tensor
    /// MLP contraction [n_embd, 4·n_embd] (a residual projection).
    public let out: Tensor
    /// The attention component of this block.
    public let attention: AttentionInstance
    private let nHead: Int, kvHeads: Int, headDim: Int

    init(config: GPTConfig, layer: Int, attention: AttentionInstance, rng: inout RandomGenerator) {
        let c = config.nEmbd, prefix = "blocks.\(layer)."
        let residualStd = 0.02 / Float(2 * config.nLayer).squareRoot()
        nHead = config.nHead; kvHeads = attention.kvHeads; headDim = config.headDim
        self.attention = attention
        norm1 = GPT.parameter(prefix + "norm1.weight", GPT.ones([c]))
        qkv = GPT.parameter(prefix + "attn.qkv.weight", .randn([(nHead + 2 * kvHeads) * headDim, c], std: 0.02, rng: &rng))
        proj = GPT.parameter(prefix + "attn.proj.weight", .randn([c, c], std: residualStd, rng: &rng))
        norm2 = GPT.parameter(prefix + "norm2.weight", GPT.ones([c]))
        fc = GPT.parameter(prefix + "mlp.fc.weight", .randn([4 * c, c], std: 0.02, rng: &rng))
        out = GPT.parameter(prefix + "mlp.out.weight", .randn([c, 4 * c], std: residualStd, rng: &rng))
    }

    /// Trainable tensors of the block.
    public var parameters: [Tensor] { [norm1, qkv, proj, norm2, fc, out] }

    /// The roles of `parameters`, index for index.
    var parameterRoles: [ParameterRole] { [.norm, .hidden, .hidden, .norm, .hidden, .hidden] }

    /// Applies the block to x [batch, seq, n_embd].
    public func forward(_ x: Tensor) throws -> Tensor {
        try apply(x) { normed in
            // A strided component reads q, k, v inside the packed projection and writes the
            // merged heads: no copies (and in a bf16 run only the rounded projection is kept).
            if attention.strided {
                return try attention.forwardPacked(projecting: normed, weight: qkv, nHead: nHead, headDim: headDim)
            }
            let (q, k, v) = try split(try Ops.linear(normed, qkv))
            return try merge(try attention.forward(q: q, k: k, v: v))
        }
    }

    /// Applies the block to the new positions x [batch, n, n_embd] of a sequence whose first
    /// `position` positions went through earlier calls, against this block's rows of `cache`
    /// (incremental decoding; not recorded).
    func decode(_ x: Tensor, cache: KVCache, layer: Int, position: Int) throws -> Tensor {
        try apply(x) { normed in
            let (q, k, v) = try split(try Ops.linear(normed, qkv))
            return try merge(try attention.decode(q: q, k: k, v: v, keyCache: cache.keys[layer], valueCache: cache.values[layer],
                                                  position: position))
        }
    }

    /// x + attention (through `attend`, from the normalised x [B, T, C], which it projects by
    /// `qkv` to h [B, T, (H + 2 KV) D], to the merged heads [B, T, C]), then + MLP.
    private func apply(_ x: Tensor, attend: (Tensor) throws -> Tensor) throws -> Tensor {
        let x1 = try Ops.linear(try attend(try Ops.layerNorm(x, weight: norm1, bias: nil, eps: 1e-5)), proj, adding: x)
        let hidden = Ops.gelu(try Ops.linear(try Ops.layerNorm(x1, weight: norm2, bias: nil, eps: 1e-5), fc))
        return try Ops.linear(hidden, out, adding: x1)
    }

    /// The packed projection h [B, T, (H + 2 KV) D] as q [B, H, T, D] and k, v [B, KV, T, D].
    private func split(_ h: Tensor) throws -> (Tensor, Tensor, Tensor) {
        let b = h.shape[0], t = h.shape[1]
        func heads(_ start: Int, _ count: Int) throws -> Tensor {
            let part = try Ops.slice(h, dim: 2, start: start * headDim, length: count * headDim)
            return try Ops.transpose(try Ops.reshape(part, [b, t, count, headDim]), 1, 2)
        }
        return (try heads(0, nHead), try heads(nHead, kvHeads), try heads(nHead + kvHeads, kvHeads))
    }

    /// Heads y [B, H, T, D] merged into [B, T, H D].
    private func merge(_ y: Tensor) throws -> Tensor {
        try Ops.reshape(try Ops.transpose(y, 1, 2), [y.shape[0], y.shape[2], nHead * headDim])
    }
}
