@testable import AutoGLM
import Foundation
import XCTest

/// The study database in process: proposing, reporting and finishing trials, the budget,
/// abandoned trials run again, and settings that must match.
final class StudyTests: XCTestCase {
    static let space = SearchSpace(parameters: [
        SearchParameter(key: "optimizer.lr", distribution: .float(low: 1e-4, high: 1e-2, log: true, step: nil), origin: "test"),
        SearchParameter(key: "attention.name", distribution: .choice(["flash", "alibi"]), origin: "test"),
    ])

    static func settings(seed: UInt64 = 3, pruner: StudySettings.PrunerSettings = .init(kind: .none)) -> StudySettings {
        StudySettings(objectives: [Objective(name: "val/loss", direction: .minimize)], sampler: .random, pruner: pruner, seed: seed,
                      population: 10, baseConfig: nil, baseConfigText: nil, overrides: [], spaceFile: "space.yaml",
                      spaceText: "optimizer.lr: { loguniform: [1e-4, 1e-2] }", pluginDirectories: [])
    }

    private func studyPath() throws -> String {
        try PluginBuilder.temporaryDirectory("study").appendingPathComponent("study.db").path
    }

    func testTrialsAreProposedRecordedAndKeptWithinTheBudget() throws {
        let path = try studyPath()
        let study = try Study(path: path, settings: Self.settings(), space: Self.space)
        let me = SearchProcessIdentity.current
        XCTAssertEqual(study.trialsDirectory, URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("study-trials").path)
        let first = try XCTUnwrap(try study.ask(owner: me, budget: 2))
        XCTAssertEqual(first.number, 0)
        XCTAssertEqual(first.attempt, 1)
        XCTAssertTrue(first.runDirectory.hasSuffix("study-trials/0000"))
        XCTAssertEqual(first.overrides.map { $0.split(separator: "=")[0] }, ["optimizer.lr", "attention.name"])
        XCTAssertFalse(try study.report(0, step: 10, value: 2.5), "no pruner: never pruned")
        try study.finish(0, .complete([2.25]), trainSeconds: 1.5)
        let second = try XCTUnwrap(try study.ask(owner: me, budget: 2))
        XCTAssertEqual(second.number, 1)
        XCTAssertNil(try study.ask(owner: me, budget: 2), "the budget counts running trials too")
        try study.finish(1, .failed("boom"), trainSeconds: nil)
        XCTAssertNil(try study.ask(owner: me, budget: 2), "and failed ones")

        let records = try study.records()
        XCTAssertEqual(records.map(\.state), [.complete, .failed])
        XCTAssertEqual(records[0].values, [2.25])
        XCTAssertEqual(records[0].intermediate, [10: 2.5])
        XCTAssertEqual(records[0].parameters, first.parameters)
        let snapshot = try StudySnapshot(path: path)
        XCTAssertEqual(snapshot.trials.map(\.error), [nil, "boom"])
        XCTAssertEqual(snapshot.trials[0].trainSeconds, 1.5)
        XCTAssertEqual(snapshot.best?.record.number, 0)
        XCTAssertEqual(snapshot.trials[0].parameters.map(\.key), ["optimizer.lr", "attention.name"])

        // Opened again with the same settings, the study goes on from its trials.
        let again = try Study(path: path, settings: Self.settings(), space: Self.space)
        XCTAssertEqual(try again.ask(owner: me, budget: 3)?.number, 2)
    }

    func testAStudyRefusesAnotherCommandsSettings() throws {
        let path = try studyPath()
        _ = try Study(path: path, settings: Self.settings(seed: 3), space: Self.space)
        XCTAssertThrowsError(try Study(path: path, settings: Self.settings(seed: 4), space: Self.space)) { error in
            XCTAssertTrue("\(error)".contains("\(path): this study was made by another search command: it differs in seed 4 (the study's: 3)"),
                          "\(error)")
        }
    }

    func testTrialsOfADeadOrInterruptedSearchRunAgainWithTheirParameters() throws {
        let path = try studyPath()
        let study = try Study(path: path, settings: Self.settings(), space: Self.space)
        // A process that has exited: its pid has no /proc entry (or another start time).
        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        exited.waitUntilExit()
        let dead = SearchProcessIdentity(host: SearchProcessIdentity.current.host, pid: exited.processIdentifier, startTicks: 1)
        XCTAssertEqual(dead.isAlive, false)
        XCTAssertEqual(SearchProcessIdentity.current.isAlive, true)
        XCTAssertEqual(SearchProcessIdentity(SearchProcessIdentity.current.description), SearchProcessIdentity.current)
        let abandoned = try XCTUnwrap(try study.ask(owner: dead, budget: 3))
        _ = try study.report(abandoned.number, step: 10, value: 3)
        let live = try XCTUnwrap(try study.ask(owner: SearchProcessIdentity.current, budget: 3))
        XCTAssertEqual(live.number, abandoned.number, "the dead search's trial is run again first")
        XCTAssertEqual(live.parameters, abandoned.parameters)
        XCTAssertEqual(live.attempt, 2)
        XCTAssertEqual(try study.records()[0].intermediate, [:], "its earlier reports are cleared")
        // A trial another live process runs is left alone; a released one is taken up.
        let next = try XCTUnwrap(try study.ask(owner: SearchProcessIdentity.current, budget: 3))
        XCTAssertEqual(next.number, 1)
        try study.release(next.number)
        XCTAssertEqual(try study.records()[1].state, .waiting)
        let resumed = try XCTUnwrap(try study.ask(owner: SearchProcessIdentity.current, budget: 3))
        XCTAssertEqual(resumed.number, 1)
        XCTAssertEqual(resumed.attempt, 2)
        // On another host only the heartbeat tells: fresh is alive, stale is abandoned.
        let remote = SearchProcessIdentity(host: "elsewhere", pid: 1, startTicks: 1)
        XCTAssertNil(remote.isAlive)
        let far = try XCTUnwrap(try study.ask(owner: remote, budget: 3))
        XCTAssertEqual(far.number, 2)
        XCTAssertNil(try study.ask(owner: SearchProcessIdentity.current, budget: 3), "its heartbeat is fresh")
        study.staleAfter = -1
        XCTAssertEqual(try study.ask(owner: SearchProcessIdentity.current, budget: 3)?.number, 2, "its heartbeat is stale")
    }

    func testReportsRecordSuccessiveHalvingRungs() throws {
        let path = try studyPath()
        let study = try Study(path: path, settings: Self.settings(pruner: .init(kind: .asha, minResource: 10, reductionFactor: 2)),
                              space: Self.space)
        let me = SearchProcessIdentity.current
        let a = try XCTUnwrap(try study.ask(owner: me, budget: 3)), b = try XCTUnwrap(try study.ask(owner: me, budget: 3))
        XCTAssertFalse(try study.report(a.number, step: 10, value: 2.0))
        XCTAssertTrue(try study.report(b.number, step: 10, value: 3.0), "[2, 3]: the top half is 2")
        try study.finish(b.number, .pruned, trainSeconds: 0.5)
        let records = try study.records()
        XCTAssertEqual(records.map(\.rungs), [[0: 2.0], [0: 3.0]])
        XCTAssertEqual(records[1].state, .pruned)
        XCTAssertEqual(records[1].lastIntermediate?.value, 3.0)
    }

    func testImportanceIsTheShareOfVarianceCorrectedForChance() {
        // a: [1, 2], b: [3, 4]: SS_total 5, SS_within 1; ε² = 1 − (1/2)/(5/3) = 0.7.
        XCTAssertEqual(StudyText.explainedShare([("a", 1), ("a", 2), ("b", 3), ("b", 4)])!, 0.7, accuracy: 1e-12)
        XCTAssertEqual(StudyText.explainedShare([("a", 1), ("a", 1), ("b", 3), ("b", 3)]), 1, "groups explain everything")
        XCTAssertEqual(StudyText.explainedShare([("a", 1), ("a", 3), ("b", 1), ("b", 3)]), 0, "no effect: clipped at 0")
        XCTAssertNil(StudyText.explainedShare([("a", 1), ("b", 2), ("c", 3)]), "fewer than two values per group")
        // Numbers are binned by quantile: 9 distinct values in 3 bins, a step between bins only.
        let binned = (0..<9).map { (String($0), Double($0 / 3)) }
        XCTAssertEqual(StudyText.explainedShare(binned), 1)
    }
}
