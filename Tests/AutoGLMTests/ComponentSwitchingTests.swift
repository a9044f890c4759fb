@testable import AutoGLM
import Foundation
import XCTest

/// Switching a component on the command line: `params.<component>.<param>` for any component,
/// validated whether selected or not, and section keys of the component a file was written for
/// set aside (validated, logged, unused) when another is selected.
final class ComponentSwitchingTests: ConfigTestCase {
    /// Resolves while collecting the warnings logged.
    private func resolveLogging(file: String? = nil, set: [String] = []) throws -> (ResolvedConfig, [String]) {
        let lines = LockedLines()
        let resolved = try HostLog.with({ _, line in lines.append(line) }) { try resolve(file: file, set: set) }
        return (resolved, lines.all)
    }

    func testSwitchingTheOptimizerSetsAsideTheKeysOfTheOneTheFileWasWrittenFor() throws {
        let path = try writeYAML("optimizer:\n  name: adamw\n  betas: [0.8, 0.9]\n  weight_decay: 0.2\n")
        let (resolved, warnings) = try resolveLogging(file: path, set: ["optimizer.name=sgd"])
        XCTAssertEqual(resolved.config.optimizer.name, "sgd")
        XCTAssertEqual(resolved.config.optimizer.parameters, ["momentum": .number(0), "nesterov": .number(0)], "sgd's defaults")
        XCTAssertEqual(warnings.count, 2, "\(warnings)")
        XCTAssertTrue(warnings[0].contains("file \(path): optimizer.betas is a parameter of optimizer 'adamw', which that layer selects; the selected optimizer is 'sgd', so it is not used"), warnings[0])
        let (adamw, none) = try resolveLogging(file: path)
        XCTAssertEqual(adamw.config.optimizer.parameters["betas"], .list([0.8, 0.9]))
        XCTAssertEqual(none, [], "nothing set aside when the file's optimizer is selected")
    }

    func testSetAsideKeysAreStillValidatedAgainstTheirComponent() throws {
        let path = try writeYAML("optimizer:\n  name: adamw\n  betas: [0.8, 1.5]\n")
        XCTAssertEqual(errorText(file: path, set: ["optimizer.name=sgd"]), "\(path): optimizer.betas[1] must be in [0, 1), got 1.5")
    }

    func testAFileWithoutANameIsWrittenForTheDefaultComponent() throws {
        let path = try writeYAML("optimizer:\n  eps: 1e-6\n")
        let (resolved, warnings) = try resolveLogging(file: path, set: ["optimizer.name=sgd"])
        XCTAssertEqual(resolved.config.optimizer.name, "sgd")
        XCTAssertEqual(warnings.count, 1)
    }

    func testAKeyOfNeitherComponentIsAnErrorThatSaysWhereItBelongs() throws {
        let path = try writeYAML("optimizer:\n  name: adamw\n  momentum: 0.9\n")
        XCTAssertEqual(errorText(file: path),
                       "\(path): optimizer.momentum: unknown key for optimizer 'adamw' (a parameter of optimizer 'sgd': set it as params.sgd.momentum, which applies whenever sgd is selected)")
        XCTAssertEqual(errorText(set: ["optimizer.name=sgd", "optimizer.betas=0.9,0.95"]),
                       "--set optimizer.betas=0.9,0.95: unknown key for optimizer 'sgd' (a parameter of optimizer 'adamw': set it as params.adamw.betas, which applies whenever adamw is selected)")
    }

    func testParamsOfEveryComponentAreValidatedAndApplyWhenItIsSelected() throws {
        let path = try writeYAML("""
        optimizer:
          name: adamw
        params:
          adamw: { betas: [0.85, 0.95] }
          sgd: { momentum: 0.9, nesterov: true }
          flash: { block: 16 }
          early_stopping: { patience: 5 }
        """)
        let adamw = try resolve(file: path)
        XCTAssertEqual(adamw.config.optimizer.parameters["betas"], .list([0.85, 0.95]), "params.adamw applies to the selected adamw")
        let sgd = try resolve(file: path, set: ["optimizer.name=sgd", "attention.name=flash"])
        XCTAssertEqual(sgd.config.optimizer.parameters, ["momentum": .number(0.9), "nesterov": .number(1)])
        XCTAssertEqual(sgd.config.attention.parameters["block"], .number(16))
        XCTAssertEqual(errorText(file: path, set: ["params.sgd.momentum=2"]),
                       "--set params.sgd.momentum=2: params.sgd.momentum must be in [0, 1], got 2", "validated though sgd is not selected")
        XCTAssertEqual(errorText(set: ["params.sgd.momentm=0.9"]),
                       "--set params.sgd.momentm=0.9: unknown key for optimizer 'sgd' (did you mean 'momentum'?)")
        XCTAssertEqual(errorText(set: ["params.sdg.momentum=0.9"]),
                       "--set params.sdg.momentum=0.9: no component named 'sdg' (did you mean 'sgd'?)")
    }

    func testTheSectionKeyAndTheParamsKeyOfOneParameter() throws {
        let both = try writeYAML("optimizer:\n  weight_decay: 0.2\nparams:\n  adamw: { weight_decay: 0.3 }\n", name: "both.yaml")
        XCTAssertEqual(errorText(file: both),
                       "\(both): optimizer.weight_decay: set twice, as optimizer.weight_decay and as params.adamw.weight_decay: keep one (optimizer.weight_decay applies to the selected optimizer, params.adamw.weight_decay whenever adamw is selected)")
        let section = try writeYAML("optimizer:\n  weight_decay: 0.2\n", name: "section.yaml")
        XCTAssertEqual(try resolve(file: section, set: ["params.adamw.weight_decay=0.3"]).config.optimizer.parameters["weight_decay"],
                       .number(0.3), "the higher layer wins")
        let params = try writeYAML("params:\n  adamw: { weight_decay: 0.3 }\n", name: "params.yaml")
        XCTAssertEqual(try resolve(file: params, set: ["optimizer.weight_decay=0.4"]).config.optimizer.parameters["weight_decay"],
                       .number(0.4))
        XCTAssertEqual(try resolve(file: params).config.optimizer.parameters["weight_decay"], .number(0.3))
    }
}

/// Lines collected from a log sink.
private final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    /// Adds a line.
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    /// Every line so far.
    var all: [String] { lock.withLock { lines } }
}
