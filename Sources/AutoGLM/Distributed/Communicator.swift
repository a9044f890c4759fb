import CMPI
import Foundation

/// The MPI world of this process (Open MPI's libmpi.so.40, opened at run time by the `CMPI`
/// shim): rank, size and the collectives data-parallel training uses, on the host's own
/// duplicate of `MPI_COMM_WORLD`. Joined once per process, on first use, and only when
/// `MPILaunch` says an MPI launcher started the process: MPI is initialised here (and finalised
/// at exit), unless the program embedding the library initialised it already, in which case
/// that MPI is used and never finalised here.
///
/// Threading: every call from the thread driving the training session (MPI is initialised
/// `MPI_THREAD_SERIALIZED`); one data-parallel session per process at a time (`take`), since
/// every rank must issue the same collectives in the same order.
final class Communicator: @unchecked Sendable {
    /// This process's rank, 0 ..< size.
    let rank: Int
    /// The number of ranks.
    let size: Int
    /// Whether the program initialised MPI before the host joined it (then it finalises it).
    let adopted: Bool
    /// Whether a session holds the world now (guarded by `lock`).
    private var taken = false

    private init(rank: Int, size: Int, adopted: Bool) {
        self.rank = rank
        self.size = size
        self.adopted = adopted
    }

    /// The process's world, initialised on first call.
    private nonisolated(unsafe) static var world: Communicator?
    /// Guards `world` and `taken`.
    private static let lock = NSLock()

    /// The world of a process an MPI launcher started: opens libmpi.so.40 (or the file
    /// `AUTOGLM_MPI_LIBRARY` names), then joins the MPI the program initialised, or initialises
    /// it and registers its finalisation at exit. Later calls return the same world.
    /// - Throws: `DistributedError` when the library cannot be opened, MPI does not start, was
    ///   already finalised, or was initialised by the program at a thread level the session's
    ///   thread cannot use.
    static func launched(environment: [String: String]) throws -> Communicator {
        try lock.withLock {
            if world == nil {
                var message = [CChar](repeating: 0, count: 512)
                guard cmpi_load(environment["AUTOGLM_MPI_LIBRARY"], &message, message.count) == 0 else {
                    throw DistributedError(message: "started by mpirun, but MPI is not usable: \(String(cString: message))")
                }
            }
            var initialized: Int32 = 0, finalized: Int32 = 0, level: Int32 = 0, isMain: Int32 = 0
            try check(cmpi_state(&initialized, &finalized, &level, &isMain), "MPI_Initialized")
            guard finalized == 0 else {
                throw DistributedError(message: "MPI was already finalised in this process (MPI_Finalize), and MPI cannot start again: create every data-parallel session before the program calls MPI_Finalize")
            }
            if let world { return world }
            if initialized != 0 && level < Int32(CMPI_THREAD_SERIALIZED.rawValue) && isMain == 0 {
                throw DistributedError(message: "the program initialised MPI at thread level \(threadLevelName(level)), and this session is created on a thread other than the main one: the session calls MPI from the thread that uses it, so initialise MPI with MPI_Init_thread(..., MPI_THREAD_SERIALIZED, ...) or use the session from the main thread")
            }
            var rank: Int32 = 0, size: Int32 = 0
            try check(cmpi_init(initialized, &rank, &size), "MPI_Init_thread")
            let made = Communicator(rank: Int(rank), size: Int(size), adopted: initialized != 0)
            world = made
            return made
        }
    }

    /// Holds the world for one session until `give`.
    /// - Throws: `DistributedError` while another session of the process holds it.
    func take() throws {
        try Self.lock.withLock {
            guard !taken else {
                throw DistributedError(message: "another data-parallel session of this process is alive: under mpirun one session trains at a time (every rank must make the same MPI calls in the same order); free the first session before creating the next")
            }
            taken = true
        }
    }

    /// Lets the next session take the world.
    func give() { Self.lock.withLock { taken = false } }

    /// MPI's name of a thread level.
    private static func threadLevelName(_ level: Int32) -> String {
        switch level {
        case Int32(CMPI_THREAD_SINGLE.rawValue): return "MPI_THREAD_SINGLE"
        case Int32(CMPI_THREAD_FUNNELED.rawValue): return "MPI_THREAD_FUNNELED"
        default: return "\(level)"
        }
    }

    /// Lets the process end normally: MPI is finalised at exit (without it, mpirun reports the
    /// rank as failed), when the host initialised it. Not called after a failure, whose non-zero
    /// exit without finalising makes mpirun end every other rank.
    func finishCleanly(_ clean: Bool) { cmpi_set_clean_exit(clean ? 1 : 0) }

    /// Sums (or takes the maximum of) `values` across ranks, in place.
    func allreduce(_ values: inout [Double], _ op: cmpi_op = CMPI_SUM) throws {
        let count = Int64(values.count)
        try values.withUnsafeMutableBytes { try Self.check(cmpi_allreduce($0.baseAddress, count, CMPI_DOUBLE, op), "MPI_Allreduce") }
    }

    /// Sums `count` floats at `buffer` across ranks, in place.
    func allreduce(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
        try Self.check(cmpi_allreduce(buffer, Int64(count), CMPI_FLOAT, CMPI_SUM), "MPI_Allreduce")
    }

    /// Starts summing `count` floats at `buffer` across ranks, in place; `wait` ends it.
    func startAllreduce(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws -> cmpi_request? {
        var request: cmpi_request?
        try Self.check(cmpi_iallreduce_sum_float(buffer, Int64(count), &request), "MPI_Iallreduce")
        return request
    }

    /// Whether the operation `request` completed (lets MPI progress it; nil once done).
    func test(_ request: inout cmpi_request?) throws -> Bool {
        guard request != nil else { return true }
        var done: Int32 = 0
        try Self.check(cmpi_test(&request, &done), "MPI_Test")
        return done != 0
    }

    /// Waits for `request` to complete.
    func wait(_ request: inout cmpi_request?) throws {
        guard request != nil else { return }
        try Self.check(cmpi_wait(&request), "MPI_Wait")
        request = nil
    }

    /// Replaces `count` floats at `buffer` by rank 0's.
    func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
        try Self.check(cmpi_bcast(buffer, Int64(count), CMPI_FLOAT, 0), "MPI_Bcast")
    }

    /// Rank 0's `bytes` on every rank (its length first, then the bytes).
    func broadcast(_ bytes: [UInt8]) throws -> [UInt8] {
        var length = [Double(bytes.count)]
        try length.withUnsafeMutableBytes { try Self.check(cmpi_bcast($0.baseAddress, 1, CMPI_DOUBLE, 0), "MPI_Bcast") }
        var out = rank == 0 ? bytes : [UInt8](repeating: 0, count: Int(length[0]))
        try out.withUnsafeMutableBytes { try Self.check(cmpi_bcast($0.baseAddress, Int64($0.count), CMPI_BYTE, 0), "MPI_Bcast") }
        return out
    }

    /// Rank 0 receives every rank's `values` one after another in rank order (the others get
    /// an empty array); `counts` is every rank's count.
    func gather(_ values: [Float], counts: [Int]) throws -> [Float] {
        let sizes = counts.map(Int32.init)
        var offsets: [Int32] = [], next: Int32 = 0
        for n in sizes { offsets.append(next); next += n }
        var out = [Float](repeating: 0, count: rank == 0 ? counts.reduce(0, +) : 0)
        try values.withUnsafeBufferPointer { send in
            try out.withUnsafeMutableBufferPointer { receive in
                try Self.check(cmpi_gatherv_float(send.baseAddress, Int32(values.count), receive.baseAddress, sizes, offsets, 0), "MPI_Gatherv")
            }
        }
        return out
    }

    /// Waits up to `seconds` for every rank to arrive here (a failing rank gives the others
    /// time to reach their own failure, so rank 0 has written the last good state); false when
    /// some rank did not come.
    func meet(within seconds: Double) -> Bool {
        var request: cmpi_request?
        guard cmpi_ibarrier(&request) == 0 else { return false }
        let deadline = Date().addingTimeInterval(seconds)
        var done: Int32 = 0
        while Date() < deadline {
            guard cmpi_test(&request, &done) == 0 else { return false }
            if done != 0 { return true }
            usleep(1000)
        }
        return false
    }

    /// Ends every rank of the job with `code` (MPI_Abort).
    func abort(code: Int32) -> Never {
        _ = cmpi_abort(code)
        exit(code)
    }

    /// Turns an MPI error code into a `DistributedError` naming the call.
    private static func check(_ code: Int32, _ call: String) throws {
        guard code != 0 else { return }
        var text = [CChar](repeating: 0, count: 512)
        cmpi_error_string(code, &text, text.count)
        throw DistributedError(message: "\(call) failed: \(String(cString: text)) (another rank probably ended; the job stops)")
    }
}

/// Data-parallel training could not start or go on: MPI is missing or cannot be used by this
/// session, or a collective failed.
public struct DistributedError: Error, CustomStringConvertible, Sendable {
    /// What happened and what to do.
    public let message: String
    /// The message.
    public var description: String { message }
}
