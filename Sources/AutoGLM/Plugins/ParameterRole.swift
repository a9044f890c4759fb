import CAutoGLM

/// What a model parameter is for (mirrors the `aglm_param_role` flags of ABI 1.2), so
/// optimizers and callbacks choose by role instead of by name. A tied token embedding that is
/// also the output head is `[.embedding, .head]`.
public struct ParameterRole: OptionSet, Sendable, Hashable {
    /// The C flags.
    public let rawValue: UInt32
    /// Wraps C flags.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// A lookup table of tokens or positions.
    public static let embedding = ParameterRole(rawValue: UInt32(AGLM_ROLE_EMBEDDING.rawValue))
    /// The projection to the vocabulary's logits.
    public static let head = ParameterRole(rawValue: UInt32(AGLM_ROLE_HEAD.rawValue))
    /// A normalisation gain or bias.
    public static let norm = ParameterRole(rawValue: UInt32(AGLM_ROLE_NORM.rawValue))
    /// A hidden weight matrix (attention and MLP projections).
    public static let hidden = ParameterRole(rawValue: UInt32(AGLM_ROLE_HIDDEN.rawValue))
}
