import AutoGLM
import Foundation
import XCTest

/// `autoglm plugins validate`: every bundled plugin passes; a broken one fails the right check.
final class ValidationTests: XCTestCase {
    func testEveryBundledPluginPassesConformance() throws {
        let files = PluginSearchPath.directories(commandLine: [], environment: [:], config: []).flatMap { $0.candidateFiles() }
        XCTAssertFalse(files.isEmpty)
        for file in files {
            let report = PluginValidator.validate(file: file)
            XCTAssertTrue(report.passed, report.render().joined(separator: "\n"))
        }
    }

    func testNonCausalAttentionFailsTheCausalityCheck() throws {
        let dir = try PluginBuilder.temporaryDirectory()
        let path = try PluginBuilder.compileFixture("noncausal_attention.c", into: dir)
        let report = PluginValidator.validate(file: path)
        XCTAssertFalse(report.passed)
        let failed = report.checks.filter { !$0.passed }
        XCTAssertEqual(failed.map(\.name), ["causal (outputs up to t ignore inputs after t)"], report.render().joined(separator: "\n"))
        XCTAssertTrue(failed.first?.detail.contains("not causal") ?? false)
    }

    func testUnloadableFileFailsWithTheLoaderReason() throws {
        let dir = try PluginBuilder.temporaryDirectory()
        let path = try PluginBuilder.compileFixture("wrong_major.c", into: dir)
        let report = PluginValidator.validate(file: path)
        XCTAssertFalse(report.passed)
        XCTAssertTrue(report.render().joined().contains("built for ABI 2, host speaks 1"))
    }
}
