import Foundation

extension TrainingOptions {
    /// The trainer's options from a resolved, validated config (the vocabulary size is set from
    /// the tokenizer when training starts).
    public init(_ resolved: ResolvedConfig) {
        let c = resolved.config
        self.init(model: GPTConfig(nLayer: c.model.nLayer, nHead: c.model.nHead, nEmbd: c.model.nEmbd,
                                   blockSize: c.model.blockSize, vocabSize: 0, positionEmbedding: c.model.positionEmbedding),
                  attention: c.attention, optimizer: c.optimizer, lr: c.lr, steps: c.train.steps,
                  batchSize: c.train.batchSize, warmupSteps: c.train.warmupSteps, minLR: c.train.minLR,
                  gradClip: c.train.gradClip, evalInterval: c.train.evalInterval, evalBatches: c.train.evalBatches,
                  logInterval: c.train.logInterval, seed: UInt64(truncatingIfNeeded: c.train.seed),
                  threads: c.train.threads, runDir: c.run.dir)
        accumulationSteps = c.train.accumulationSteps
        schedule = c.train.lrSchedule
        evaluators = c.evaluators
        callbacks = c.callbacks
        resolvedConfigJSON = resolved.jsonObject
    }
}
