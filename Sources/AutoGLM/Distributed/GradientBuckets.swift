import AutoGLMCore
import CMPI
import Foundation

/// Gradient averaging in buckets, overlapped with the backward (PyTorch DDP's reducer, Horovod's
/// tensor fusion): the parameters, in reverse order (roughly the order the backward finishes
/// them), are packed into buckets of about `distributed.bucket_mb`; when the backward reports a
/// parameter's gradient final it is copied into its bucket, and a bucket whose gradients are all
/// in starts its `MPI_Iallreduce` (sum) at once. Buckets start strictly in bucket order on every
/// rank (a ready bucket waits for the ones before it), since all ranks must issue collectives in
/// the same order. `finish` starts what is left, waits, and copies the sums back into the grads.
///
/// Open MPI progresses a non-blocking collective only inside MPI calls, so every notification
/// also tests the buckets in flight (`MPI_Test`), which moves them along during the backward.
final class GradientBuckets {
    /// One fusion buffer and the parameters it carries.
    private final class Bucket {
        /// The parameters, with the offset of each one's gradient in `buffer`.
        let members: [(parameter: Tensor, offset: Int)]
        /// Floats in the buffer.
        let count: Int
        /// The packed gradients (reduced in place).
        let buffer: UnsafeMutablePointer<Float>
        /// Members whose gradient is not in yet, this step.
        var missing = 0
        /// The reduction in flight (nil: not started, or done).
        var request: cmpi_request?

        init(members: [(parameter: Tensor, offset: Int)], count: Int) {
            self.members = members
            self.count = count
            buffer = .allocate(capacity: max(count, 1))
        }

        deinit { buffer.deallocate() }
    }

    private let communicator: Communicator
    private let buckets: [Bucket]
    /// Each parameter's bucket and offset in it.
    private var place: [ObjectIdentifier: (bucket: Int, offset: Int)] = [:]
    /// The next bucket to start.
    private var next = 0
    /// The first MPI error of the step (the autograd notification cannot throw).
    private var failure: Error?

    /// Buckets of at most `bytes` (at least one parameter each) over `parameters`, last first.
    init(parameters: [Tensor], bytes: Int, communicator: Communicator) {
        self.communicator = communicator
        var buckets: [Bucket] = []
        var members: [(parameter: Tensor, offset: Int)] = []
        var count = 0
        for p in parameters.reversed() {
            if !members.isEmpty && (count + p.count) * MemoryLayout<Float>.size > bytes {
                buckets.append(Bucket(members: members, count: count))
                members = []
                count = 0
            }
            members.append((p, count))
            count += p.count
        }
        if !members.isEmpty { buckets.append(Bucket(members: members, count: count)) }
        self.buckets = buckets
        for (index, bucket) in buckets.enumerated() {
            for m in bucket.members { place[ObjectIdentifier(m.parameter)] = (index, m.offset) }
        }
    }

    /// How many buckets there are.
    var bucketCount: Int { buckets.count }

    /// Readies the buckets for a backward.
    func begin() {
        for b in buckets { b.missing = b.members.count }
        next = 0
        failure = nil
    }

    /// The backward reports that `parameter`'s gradient is final: packs it, starts every bucket
    /// that is complete and next in order, and lets the reductions in flight progress.
    func gradientFinal(_ parameter: Tensor) {
        guard failure == nil, let (index, offset) = place[ObjectIdentifier(parameter)] else { return }
        let bucket = buckets[index]
        pack(parameter, into: bucket, at: offset)
        bucket.missing -= 1
        do {
            while next < buckets.count && buckets[next].missing == 0 {
                buckets[next].request = try communicator.startAllreduce(buckets[next].buffer, count: buckets[next].count)
                next += 1
            }
            for b in buckets[..<next] where b.request != nil { _ = try communicator.test(&b.request) }
        } catch {
            failure = error
        }
    }

    /// Ends the reduction: packs and starts the buckets the backward did not complete (their
    /// missing gradients count as zero), waits for all, and puts the sums into the gradients.
    /// Returns the seconds spent waiting here (communication the backward did not hide).
    func finish() throws -> Double {
        if let failure { throw failure }
        let start = DispatchTime.now().uptimeNanoseconds
        for bucket in buckets where bucket.missing > 0 {
            for m in bucket.members { pack(m.parameter, into: bucket, at: m.offset) }
            bucket.missing = 0
        }
        while next < buckets.count {
            buckets[next].request = try communicator.startAllreduce(buckets[next].buffer, count: buckets[next].count)
            next += 1
        }
        for b in buckets {
            try communicator.wait(&b.request)
            for m in b.members {
                guard let grad = m.parameter.grad else { continue }
                grad.data.update(from: b.buffer + m.offset, count: grad.count)
            }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Copies `parameter`'s gradient (zeros without one) into `bucket` at `offset`.
    private func pack(_ parameter: Tensor, into bucket: Bucket, at offset: Int) {
        if let grad = parameter.grad {
            (bucket.buffer + offset).update(from: grad.data, count: grad.count)
        } else {
            (bucket.buffer + offset).update(repeating: 0, count: parameter.count)
        }
    }
}
