/// Shape of a GPT model.
public struct GPTConfig: Sendable, Codable, Equatable {
    /// Transformer blocks.
    public var nLayer: Int
    /// Query heads per block.
    public var nHead: Int
    /// Width of the residual stream.
    public var nEmbd: Int
    /// Longest context (and size of the position embedding).
    public var blockSize: Int
    /// Tokens in the vocabulary.
    public var vocabSize: Int
    /// Whether learned absolute position embeddings are added (false for ALiBi-style attention).
    public var positionEmbedding: Bool

    /// Creates a shape.
    public init(nLayer: Int, nHead: Int, nEmbd: Int, blockSize: Int, vocabSize: Int, positionEmbedding: Bool = true) {
        self.nLayer = nLayer; self.nHead = nHead; self.nEmbd = nEmbd; self.blockSize = blockSize
        self.vocabSize = vocabSize; self.positionEmbedding = positionEmbedding
    }

    /// Features per head.
    public var headDim: Int { nEmbd / nHead }

    /// JSON keys, snake_case like the config's `model.*` keys.
    enum CodingKeys: String, CodingKey {
        case nLayer = "n_layer", nHead = "n_head", nEmbd = "n_embd", blockSize = "block_size"
        case vocabSize = "vocab_size", positionEmbedding = "position_embedding"
    }
}

extension GPTConfig {
    /// The shape `config`'s `model.*` keys describe, for a vocabulary of `vocabSize` tokens.
    public init(_ config: RunConfig, vocabSize: Int) {
        let m = config.model
        self.init(nLayer: m.nLayer, nHead: m.nHead, nEmbd: m.nEmbd, blockSize: m.blockSize, vocabSize: vocabSize,
                  positionEmbedding: m.positionEmbedding)
    }
}
