import AutoGLM
import XCTest

/// Successive halving against a worked example, and the median rule.
final class PrunerTests: XCTestCase {
    /// A trial that reported `values` by step (and completed `rungs`).
    private func trial(_ number: Int, _ values: [Int: Double], state: TrialState = .running,
                       rungs: [Int: Double] = [:]) -> TrialRecord {
        TrialRecord(number: number, state: state, parameters: [:], intermediate: values, rungs: rungs)
    }

    func testSuccessiveHalvingWorkedExample() {
        // η = 3, first rung at step 10: rungs complete at 10, 30, 90.
        let pruner = SuccessiveHalvingPruner(minResource: 10, reductionFactor: 3)
        XCTAssertEqual([0, 1, 2].map { pruner.promotionStep(rung: $0, minResource: 10) }, [10, 30, 90])
        var study: [TrialRecord] = []
        /// Reports `value` at `step` for trial `number`, records the rungs, returns whether it is pruned.
        func report(_ number: Int, step: Int, _ value: Double) -> (Bool, [Int: Double]) {
            var t = study.first { $0.number == number } ?? trial(number, [:])
            t.intermediate[step] = value
            let decision = pruner.decide(t, others: study.filter { $0.number != number }, direction: .minimize)
            t.rungs.merge(decision.completedRungs) { _, new in new }
            study.removeAll { $0.number == number }
            study.append(t)
            return (decision.prune, decision.completedRungs)
        }
        XCTAssertEqual(report(0, step: 5, 9).0, false, "before the first rung nothing is decided")
        // Rung 0. Fewer than η competitors: only the best goes on (index 0 of the sorted values).
        XCTAssertEqual(report(0, step: 10, 5.0).0, false)                  // [5]: best
        XCTAssertEqual(report(1, step: 10, 4.0).0, false)                  // [4, 5]: best
        XCTAssertEqual(report(2, step: 10, 6.0).0, true)                   // [4, 5, 6]: top 3/3 = 1 → 4 only
        XCTAssertEqual(report(3, step: 10, 4.5).0, true)                   // [4, 4.5, 5, 6]: top 1 → 4
        XCTAssertEqual(report(4, step: 10, 3.0).0, false)                  // [3, …]: the best
        // Trial 0 reaches rung 1 alone and goes on; rung 2 is at 90.
        XCTAssertEqual(report(0, step: 20, 4.2).0, false, "between rungs")
        let (pruned0, rungs0) = report(0, step: 30, 4.0)
        XCTAssertFalse(pruned0)
        XCTAssertEqual(rungs0, [1: 4.0])
        // A first report at step 30 completes rungs 0 and 1 with the same value: rung 0 has six
        // values [2, 3, 4, 4.5, 5, 6], the top 6/3 = 2 are ≤ 3, so 2 goes on; rung 1 has [2, 4]:
        // fewer than η, the best goes on.
        let (pruned5, rungs5) = report(5, step: 30, 2.0)
        XCTAssertFalse(pruned5)
        XCTAssertEqual(rungs5, [0: 2.0, 1: 2.0])
        // A pruned trial's value stays in the rung's competition (Optuna records it first).
        XCTAssertEqual(study.first { $0.number == 2 }?.rungs, [0: 6.0])
        // Trial 1 at rung 1: [2, 4, 4.4] → top 1 → 2: pruned.
        XCTAssertEqual(report(1, step: 30, 4.4).0, true)
        // NaN is pruned at its rung.
        XCTAssertEqual(report(6, step: 10, .nan).0, true)
    }

    func testSuccessiveHalvingMaximizesAndEstimatesItsFirstRung() {
        let pruner = SuccessiveHalvingPruner(minResource: nil, reductionFactor: 2)
        let running = trial(9, [3: 0.1])
        XCTAssertEqual(pruner.decide(running, others: [], direction: .maximize), PruneDecision(prune: false),
                       "auto: nothing is decided before a trial is complete")
        // A complete trial that reported up to step 300: the first rung is at 300 / 100 = 3.
        let complete = trial(0, [100: 0.5, 300: 0.8], state: .complete, rungs: [0: 0.4])
        // Rung 0 (step 3): [0.4, 0.1] → top 2/2 = 1 → 0.4 for maximisation: 0.1 is pruned.
        XCTAssertEqual(pruner.decide(running, others: [complete], direction: .maximize),
                       PruneDecision(prune: true, completedRungs: [0: 0.1]))
        XCTAssertEqual(pruner.decide(trial(9, [3: 0.6]), others: [complete], direction: .maximize),
                       PruneDecision(prune: false, completedRungs: [0: 0.6]))
    }

    func testMedianPruner() {
        let pruner = MedianPruner()
        let complete = (0..<5).map { i in trial(i, [10: Double(i + 1), 20: Double(i)], state: .complete) }  // median at 10: 3
        XCTAssertTrue(pruner.decide(trial(9, [10: 3.5]), others: complete, direction: .minimize).prune)
        XCTAssertFalse(pruner.decide(trial(9, [10: 2.5]), others: complete, direction: .minimize).prune)
        XCTAssertFalse(pruner.decide(trial(9, [5: 2.0, 10: 3.5]), others: complete, direction: .minimize).prune,
                       "the trial's best value so far counts")
        XCTAssertFalse(pruner.decide(trial(9, [15: 99]), others: complete, direction: .minimize).prune,
                       "no complete trial reported that step")
        XCTAssertFalse(pruner.decide(trial(9, [10: 99]), others: Array(complete.prefix(4)), direction: .minimize).prune,
                       "fewer than 5 complete trials: no pruning")
        XCTAssertTrue(pruner.decide(trial(9, [10: 2.5]), others: complete, direction: .maximize).prune, "maximising")
        XCTAssertTrue(pruner.decide(trial(9, [10: .nan]), others: complete, direction: .minimize).prune, "NaN is pruned")
        // The running and failed trials are not part of the median.
        let more = complete + [trial(7, [10: 0]), trial(8, [10: 0], state: .failed)]
        XCTAssertTrue(pruner.decide(trial(9, [10: 3.5]), others: more, direction: .minimize).prune)
    }
}
