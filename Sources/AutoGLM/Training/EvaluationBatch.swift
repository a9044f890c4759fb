/// One batch of an evaluation: `rows` windows of `seq` tokens with their next-token targets,
/// and the weight of its mean loss in the evaluation's mean (1 for the equal random batches of
/// the periodic evaluation, the number of targets for a full split's blocks).
struct EvaluationBatch {
    /// Input ids, rows·seq, row-major.
    var inputs: [Int32]
    /// Target ids (the inputs shifted by one), rows·seq, row-major.
    var targets: [Int32]
    /// Windows in the batch.
    var rows: Int
    /// Tokens per window.
    var seq: Int
    /// Weight of the batch's mean loss.
    var weight: Double
}
