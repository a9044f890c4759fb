/// `train.activation_checkpointing`: what the backward recomputes instead of keeping.
public enum ActivationCheckpointing: String, Sendable, CaseIterable, HostKeyChoice {
    /// Every activation is kept from the forward to the backward.
    case none
    /// Only each transformer block's input is kept; the block's activations are recomputed in
    /// the backward (`Ops.checkpoint`), one block at a time.
    case blocks
}
