/// A token sequence cut into consecutive blocks from its start, so every token but the first is
/// predicted exactly once: full windows of `blockSize` tokens at 0, blockSize, 2·blockSize, …
/// grouped `batchSize` to a batch, then one shorter window for the targets left over. Each
/// batch weighs as many targets as it holds, so the weighted mean of the batches' losses is the
/// mean loss over all `tokens.count - 1` targets. What `autoglm eval` evaluates.
struct ConsecutiveBlocks {
    /// The tokens.
    let tokens: [Int32]
    /// Tokens per full window (the model's block size).
    let blockSize: Int
    /// Full windows per batch.
    let batchSize: Int

    /// Full windows: those whose last target is inside the tokens.
    var fullBlocks: Int { max(tokens.count - 1, 0) / blockSize }
    /// Targets after the full windows, predicted by the shorter last window (0: none).
    var remainder: Int { max(tokens.count - 1, 0) - fullBlocks * blockSize }
    /// Windows in all, the shorter one included.
    var blocks: Int { fullBlocks + (remainder > 0 ? 1 : 0) }
    /// Targets predicted: every token but the first.
    var targets: Int { max(tokens.count - 1, 0) }
    /// Batches: the full windows `batchSize` at a time, then the shorter window alone.
    var batches: Int { (fullBlocks + batchSize - 1) / batchSize + (remainder > 0 ? 1 : 0) }

    /// Batch `index` (0 ..< `batches`).
    func batch(_ index: Int) -> EvaluationBatch {
        let fullBatches = (fullBlocks + batchSize - 1) / batchSize
        let first = index < fullBatches ? index * batchSize : fullBlocks
        let (rows, seq) = index < fullBatches ? (min(batchSize, fullBlocks - first), blockSize) : (1, remainder)
        var inputs = [Int32](), targets = [Int32]()
        inputs.reserveCapacity(rows * seq)
        targets.reserveCapacity(rows * seq)
        for row in 0..<rows {
            let start = (first + row) * blockSize
            inputs += tokens[start..<start + seq]
            targets += tokens[start + 1...start + seq]
        }
        return EvaluationBatch(inputs: inputs, targets: targets, rows: rows, seq: seq, weight: Double(rows * seq))
    }
}
