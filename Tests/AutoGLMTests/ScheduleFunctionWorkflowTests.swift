import AutoGLM
import Foundation
import XCTest

/// The README's one-function schedule plugin (Fixtures/step_decay.c, quoted verbatim there),
/// built with the README's `cc` line and called by name like a user would.
final class ScheduleFunctionWorkflowTests: XCTestCase {
    func testTheReadmeExampleIsTheFixture() throws {
        let readme = try String(contentsOf: PluginBuilder.repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOfFile: PluginBuilder.fixturesDir + "/step_decay.c", encoding: .utf8)
        XCTAssertTrue(readme.contains("```c\n" + source + "```"), "README.md's 'Functions by prototype' example differs from Fixtures/step_decay.c")
    }

    func testBuiltWithOneCcLineItFollowsTorchsStepLR() throws {
        let work = try PluginBuilder.temporaryDirectory("step-decay")
        try FileManager.default.copyItem(atPath: PluginBuilder.fixturesDir + "/step_decay.c", toPath: work.appendingPathComponent("step_decay.c").path)
        let build = try PluginBuilder.run(["cc", "-shared", "-fPIC", "-O2", "-I", PluginBuilder.includeDir, "-o", "step_decay.so", "step_decay.c", "-lm"],
                                          in: work)
        XCTAssertEqual(build.status, 0, build.output)
        let registry = PluginRegistry()
        XCTAssertTrue(registry.load(file: work.appendingPathComponent("step_decay.so").path), "\(registry.failures)")
        let f = try XCTUnwrap(registry.function(named: "step_decay"))
        for (every, gamma) in [(Int64(100), 0.5), (7, 0.9), (1, 0.99)] {
            for step in Int64(0)...1000 {
                let want = 1e-3 * pow(gamma, (Double(step) / Double(every)).rounded(.down))  // StepLR: lr * gamma^(epoch // step_size)
                guard case .double(let got) = try f.binding.call([.int(step), .double(1e-3), .int(every), .double(gamma)]) else {
                    return XCTFail("step_decay did not return a double")
                }
                XCTAssertEqual(got, want, accuracy: 2 * want.ulp, "step \(step), every \(every), gamma \(gamma)")
            }
        }
        guard case .double(let invalid) = try f.binding.call(named: ["step": .int(5), "base_lr": .double(1e-3), "every": .int(0), "gamma": .double(0.5)]) else {
            return XCTFail("step_decay did not return a double")
        }
        XCTAssertTrue(invalid.isNaN, "every = 0 gives NaN, not a crash: \(invalid)")
        XCTAssertTrue(PluginValidator.validate(file: work.appendingPathComponent("step_decay.so").path).passed)
    }
}
