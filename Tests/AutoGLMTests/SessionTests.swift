import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// The session is the one composition root: it trains, continues, evaluates and samples, and
/// several sessions run side by side without affecting each other.
final class SessionTests: XCTestCase {
    /// A short run of the shared test model with `seed` and `threads`.
    private func config(seed: Int, steps: Int = 12, threads: Int = 2) throws -> RunConfig {
        var c = TrainingTests.config(runDir: try PluginBuilder.temporaryDirectory("session").path, steps: steps)
        c.attention = ComponentSelection(kind: .attention, name: "flash")
        c.train.seed = seed
        c.train.threads = threads
        c.train.evalInterval = 6
        c.train.evalBatches = 2
        return c
    }

    /// Every parameter's values, in order.
    private func weights(_ session: Session) -> [[Float]] { session.model.parameters.map(\.values) }

    /// What a session produced: its weights, the loss of every step and the last metrics.
    private struct Outcome: Equatable {
        var weights: [[Float]]
        var losses: [Double]
        var metrics: [Metric]
    }

    /// Trains `config` from scratch (replacing an earlier run of it).
    private func run(_ config: RunConfig) throws -> Outcome {
        var losses: [Double] = []
        let session = try TrainingTests.session(config, overwrite: true) { p in if p.kind == .step { losses.append(p.loss) } }
        let result = try session.train()
        return Outcome(weights: weights(session), losses: losses, metrics: result.metrics)
    }

    func testTwoSessionsOnTwoThreadsGiveExactlyWhatEachGivesAlone() throws {
        let a = try config(seed: 7), b = try config(seed: 8)
        let aloneA = try run(a), aloneB = try run(b)
        XCTAssertNotEqual(aloneA.weights, aloneB.weights, "different seeds train different models")

        let together = try OnThreads.run([{ try self.run(a) }, { try self.run(b) }])
        XCTAssertEqual(together[0], aloneA, "session A on its own thread, beside B, is bit-identical to A alone")
        XCTAssertEqual(together[1], aloneB, "and B to B alone")
    }

    func testTrainingContinuesExactlyWhereItStopped() throws {
        let c = try config(seed: 3, steps: 12)
        let straight = try run(c)

        var losses: [Double] = []
        let session = try TrainingTests.session(c, overwrite: true) { p in if p.kind == .step { losses.append(p.loss) } }
        XCTAssertEqual(try session.train(steps: 5).steps, 5)
        XCTAssertEqual(session.state.step, 5)
        XCTAssertEqual(try session.train(steps: 4).steps, 9)
        let result = try session.train()  // the rest, up to train.steps
        XCTAssertEqual(result.steps, 12)
        XCTAssertEqual(Outcome(weights: weights(session), losses: losses, metrics: result.metrics), straight,
                       "5 + 4 + 3 steps are the same 12 steps")
        XCTAssertEqual(try session.train().steps, 12, "nothing left to train")
        // Beyond train.steps when asked, at the schedule's final learning rate.
        let more = try session.train(steps: 2)
        XCTAssertEqual(more.steps, 14)
        XCTAssertEqual(session.state.lr, c.train.minLR, accuracy: 1e-15)
    }

    func testProgressCanStopTrainingAndSeesEveryStep() throws {
        let session = try TrainingTests.session(try config(seed: 1, steps: 30))
        var steps: [Int] = [], logged: [Int] = []
        session.progress = { p in
            guard p.kind == .step else { return .proceed }
            steps.append(p.step)
            if p.logged { logged.append(p.step) }
            XCTAssertGreaterThan(p.stepSeconds, 0)
            return p.step == 7 ? .stop : .proceed
        }
        let result = try session.train()
        XCTAssertEqual(result.steps, 7)
        XCTAssertTrue(result.stoppedEarly)
        XCTAssertEqual(steps, Array(1...7))
        XCTAssertEqual(logged, [1], "log_interval 10: the first step (the stop is not known yet at step 7)")
        let records = try String(contentsOf: session.runDirectory.appendingPathComponent("log.jsonl"), encoding: .utf8)
            .split(separator: "\n").filter { $0.contains(#""kind":"step""#) }
        XCTAssertEqual(records.count, 2, "steps 1 and 7, the last step of the run: \(records)")
        XCTAssertTrue(records.last?.contains(#""step":7"#) ?? false)
        XCTAssertNotNil(result.metric("val/loss"), "a stop evaluates")
    }

    func testASessionRefusesASecondThreadWhileInUse() throws {
        let session = try TrainingTests.session(try config(seed: 2, steps: 3))
        let inside = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        session.progress = { p in
            if p.kind == .step { inside.signal(); release.wait() }  // hold the session inside the step
            return .proceed
        }
        let training = OnThreads.start { _ = try session.train(steps: 1) }
        inside.wait()
        XCTAssertThrowsError(try session.evaluate()) { XCTAssertTrue("\($0)".contains("in use by another thread"), "\($0)") }
        release.signal()
        try training.wait()
        XCTAssertEqual(session.state.step, 1)
        XCTAssertNoThrow(try session.evaluate(), "free again")
    }

    func testSampleIsDeterministicAndStreams() throws {
        let session = try TrainingTests.session(try config(seed: 4, steps: 20))
        _ = try session.train()
        let a = try session.sample(prompt: "the ", tokens: 30, seed: 9)
        XCTAssertEqual(a.unicodeScalars.count, 30)
        XCTAssertEqual(try session.sample(prompt: "the ", tokens: 30, seed: 9), a)
        var streamed = ""
        let early = try session.sample(prompt: "the ", tokens: 30, seed: 9) { piece in
            streamed += piece
            return streamed.count < 10
        }
        XCTAssertEqual(early, streamed)
        XCTAssertEqual(early, String(a.prefix(10)), "the same characters, stopped after ten")
        XCTAssertThrowsError(try session.sample(prompt: "é", tokens: 1)) { XCTAssertTrue("\($0)".contains("vocabulary"), "\($0)") }
        XCTAssertThrowsError(try session.sample(prompt: "", tokens: 1))
    }

    func testTheBenchmarkTimesTheSessionsTrainingStep() throws {
        let result = try ThroughputBenchmark.run(preset: ThroughputBenchmark.presets["small"]!, threads: 2, warmup: 1, steps: 2)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.json.utf8)) as? [String: Any])
        XCTAssertEqual(json["preset"] as? String, "small")
        XCTAssertEqual((json["params"] as? NSNumber)?.intValue, 4 * 12 * 128 * 128 + 128 * 128 + 128 * 128 + 9 * 128)
        XCTAssertGreaterThan(result.tokensPerSecond, 0)
        XCTAssertThrowsError(try ThroughputBenchmark.run(preset: ThroughputBenchmark.presets["small"]!, steps: 0)) {
            XCTAssertTrue("\($0)".contains("--steps must be >= 1"), "\($0)")
        }
    }
}

/// Runs closures on threads of their own (tests of what happens across threads; the closures
/// and their results cross threads, which the tests make safe by waiting for them).
enum OnThreads {
    /// A closure running on its own thread.
    final class Running<T>: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var result: Result<T, Error>?

        fileprivate init(_ body: @escaping () throws -> T) {
            nonisolated(unsafe) let body = body
            let thread = Thread { [self] in
                result = Result { try body() }
                done.signal()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }

        /// Waits for the closure and returns its result (or throws its error).
        func wait() throws -> T {
            done.wait()
            return try result!.get()
        }
    }

    /// Starts `body` on a new thread.
    static func start<T>(_ body: @escaping () throws -> T) -> Running<T> { Running(body) }

    /// Runs every closure on its own thread at once and returns their results in order.
    static func run<T>(_ bodies: [() throws -> T]) throws -> [T] {
        try bodies.map(start).map { try $0.wait() }
    }
}
