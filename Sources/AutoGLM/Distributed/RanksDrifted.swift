/// The ranks of a data-parallel run no longer hold the same weights and optimizer state (their
/// checksums at a checkpoint differ): a nondeterministic plugin or callback, or a faulty node.
/// No rank's state is known to be the right one, so the run stops without writing the step;
/// the previous checkpoint is the last good state.
public struct RanksDrifted: Error, CustomStringConvertible, Sendable {
    /// The step whose checkpoint found the difference.
    public let step: Int
    /// The ranks whose checksum differs from rank 0's, in order.
    public let ranks: [Int]
    /// Every rank's checksum, by rank.
    public let checksums: [UInt64]

    /// The drift among `checksums` (by rank) at `step`; nil when every rank agrees with rank 0.
    init?(step: Int, checksums: [UInt64]) {
        let ranks = checksums.indices.filter { checksums[$0] != checksums[0] }
        guard !ranks.isEmpty else { return nil }
        self.step = step
        self.ranks = ranks
        self.checksums = checksums
    }

    /// What happened and where (the trainer adds which checkpoint to resume).
    public var description: String {
        let list = ranks.count == 1 ? "rank \(ranks[0])" : "ranks " + ranks.map(String.init).joined(separator: ", ")
        let theirs = ranks.map { Self.hex(checksums[$0]) }.joined(separator: ", ")
        return "step \(step): the ranks drifted apart: \(list) \(ranks.count == 1 ? "holds" : "hold") other weights or optimizer state than rank 0 (checksum \(theirs) against \(Self.hex(checksums[0]))), from a nondeterministic plugin or callback, or a faulty node; the run stops without checkpointing step \(step)"
    }

    /// A checksum as 16 hexadecimal digits.
    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
    }
}
