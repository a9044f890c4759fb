import AutoGLMCore
import CMPI
import Foundation

/// A session's part in data-parallel training: which rank this process is, which rows of each
/// global batch it computes, and the collectives that keep the ranks in lockstep (gradient
/// buckets, sums of losses, combined callback requests, the broadcast of the state from rank 0,
/// the checksum at each checkpoint). `single` is one process on its own: every operation is
/// then the identity, and no MPI is loaded.
///
/// Who does what: every rank trains its rows, runs the callbacks and evaluates its share; rank 0
/// alone writes the run directory (log, run.json, checkpoints) and reports progress.
final class DataParallel {
    /// One process, no MPI.
    static let single = DataParallel(communicator: nil, bucketBytes: 0)

    /// The MPI world (nil: one process).
    let communicator: Communicator?
    /// The configured bucket size in bytes.
    private let bucketBytes: Int
    /// The model's gradient buckets, made on the first step.
    private var buckets: GradientBuckets?
    /// Seconds the last step waited for its gradient reductions after its backward.
    private(set) var lastWaitSeconds = 0.0

    private init(communicator: Communicator?, bucketBytes: Int) {
        self.communicator = communicator
        self.bucketBytes = bucketBytes
    }

    /// Data-parallel training when an MPI launcher started this process (`environment`, the
    /// process's, says), else `single`. The session holds the process's MPI world until it is
    /// freed (this object's end).
    /// - Throws: `DistributedError` when MPI cannot be used, another data-parallel session of the
    ///   process is alive, or `train.batch_size` has fewer rows than there are ranks.
    static func start(environment: [String: String], config: RunConfig) throws -> DataParallel {
        guard MPILaunch.isLaunched(environment) else { return .single }
        let world = try Communicator.launched(environment: environment)
        guard config.train.batchSize >= world.size else {
            throw DistributedError(message: "train.batch_size (\(config.train.batchSize)) is the global batch and must give every one of the \(world.size) ranks a row: raise it to at least \(world.size) or start fewer ranks")
        }
        try world.take()
        return DataParallel(communicator: world, bucketBytes: Int(config.distributed.bucketMB * 1_048_576))
    }

    deinit { communicator?.give() }

    /// This process's rank (0 alone).
    var rank: Int { communicator?.rank ?? 0 }
    /// The number of ranks (1 alone).
    var size: Int { communicator?.size ?? 1 }
    /// Whether this rank writes the run's files and reports progress.
    var isRoot: Bool { rank == 0 }

    /// This rank's rows of a global batch of `batch` rows: a contiguous, balanced share, so the
    /// rows (drawn for the whole batch on every rank) do not depend on the number of ranks.
    func rows(of batch: Int) -> Range<Int> {
        (batch * rank / size)..<(batch * (rank + 1) / size)
    }

    /// The sums of `values` over the ranks.
    func sum(_ values: [Double]) throws -> [Double] {
        guard let communicator else { return values }
        var out = values
        try communicator.allreduce(&out)
        return out
    }

    /// Backpropagates `loss`. On the last micro-batch of a step, the gradients are summed
    /// across ranks in buckets started during the backward.
    func backward(_ loss: Tensor, parameters: [Tensor], lastMicroBatch: Bool) throws {
        guard let communicator, lastMicroBatch else { return try loss.backward() }
        let buckets = self.buckets ?? GradientBuckets(parameters: parameters, bytes: bucketBytes, communicator: communicator)
        self.buckets = buckets
        buckets.begin()
        try loss.backward(gradientFinal: buckets.gradientFinal)
        lastWaitSeconds = try buckets.finish()
    }

    /// Combines the callbacks' (and the progress receiver's) requests of every rank: any stop,
    /// save or evaluate wins; the learning-rate scale and micro-batches are rank 0's.
    func combine(_ control: inout TrainerControl) throws {
        guard let communicator else { return }
        var flags = [control.stop ? 1.0 : 0, control.save ? 1 : 0, control.evaluate ? 1 : 0, control.interrupted ? 1 : 0]
        try communicator.allreduce(&flags, CMPI_MAX)
        var settings = [control.lrScale, Double(control.accumulationSteps)]
        try settings.withUnsafeMutableBufferPointer { p in
            try p.withMemoryRebound(to: UInt8.self) { bytes in
                let root = try communicator.broadcast(Array(bytes))
                for (i, b) in root.enumerated() { bytes[i] = b }
            }
        }
        control.stop = flags[0] != 0
        control.save = flags[1] != 0
        control.evaluate = flags[2] != 0
        control.interrupted = flags[3] != 0
        control.lrScale = settings[0]
        control.accumulationSteps = Int(settings[1])
    }

    /// Gives every rank rank 0's values of `tensors` (the parameters and the optimizer state, at
    /// the start and after a resume).
    func broadcast(_ tensors: [Tensor]) throws {
        guard let communicator else { return }
        for t in tensors { try communicator.broadcast(t.data, count: t.count) }
    }

    /// Checks that every rank holds the same `tensors` (a 64-bit checksum of their bits, every
    /// rank's gathered on every rank, so all take the same decision).
    /// - Throws: `RanksDrifted` when they drifted apart, naming the ranks and the step.
    func checkInSync(_ tensors: [Tensor], step: Int) throws {
        guard let communicator else { return }
        let sum = Self.checksum(tensors)
        var halves = [Double](repeating: 0, count: 2 * size)  // each rank's two 32-bit halves in its slots, exact as doubles
        halves[2 * rank] = Double(sum >> 32)
        halves[2 * rank + 1] = Double(sum & 0xFFFF_FFFF)
        try communicator.allreduce(&halves)
        let sums = (0..<size).map { UInt64(halves[2 * $0]) << 32 | UInt64(halves[2 * $0 + 1]) }
        if let drift = RanksDrifted(step: step, checksums: sums) { throw drift }
    }

    /// A 64-bit checksum of the bits of `tensors` (a multiply-xor hash over 32-bit words).
    static func checksum(_ tensors: [Tensor]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for t in tensors {
            t.data.withMemoryRebound(to: UInt32.self, capacity: t.count) { words in
                for i in 0..<t.count { h = (h ^ UInt64(words[i])) &* 0x0000_0100_0000_01B3 }
            }
        }
        return h
    }

    /// Rank 0 receives every rank's rows of `logits` ([rows, vocab]) and `targets`, in rank
    /// order: the whole batch as one process computes it. Other ranks get nil.
    func gather(logits: Tensor, targets: [Int32], batchRows: Int, seq: Int) throws -> (Tensor, [Int32])? {
        guard let communicator else { return (logits, targets) }
        let vocab = logits.shape[1]
        let shares = (0..<size).map { r in (batchRows * (r + 1) / size - batchRows * r / size) * seq }
        let all = try communicator.gather(logits.values, counts: shares.map { $0 * vocab })
        let ids = try communicator.gather(targets.map { Float($0) }, counts: shares)
        guard isRoot else { return nil }
        return (Tensor(shape: [batchRows * seq, vocab], values: all), ids.map { Int32($0) })
    }

    /// Rank 0's `metrics` on every rank.
    func broadcast(_ metrics: [Metric]) throws -> [Metric] {
        guard let communicator else { return metrics }
        let bytes = isRoot ? [UInt8](try JSONEncoder().encode(metrics)) : []
        return try JSONDecoder().decode([Metric].self, from: Data(try communicator.broadcast(bytes)))
    }

    /// Training ended (`failed`: with an error). After a failure every rank waits up to 30 s for
    /// the others to fail too, so rank 0 has written the last good state before mpirun ends the
    /// job; the process then exits without finalising MPI (a non-zero exit ends the other ranks).
    func ended(failed: Bool) {
        guard let communicator else { return }
        if failed { _ = communicator.meet(within: 30) }
        communicator.finishCleanly(!failed)
    }

    /// "rank R of N" under MPI, nil alone.
    var label: String? { communicator.map { "MPI rank \($0.rank) of \($0.size)" } }
}
