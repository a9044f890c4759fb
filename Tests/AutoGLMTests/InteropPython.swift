import Foundation
import XCTest

/// The Python of the interop tests (the venv made by scripts/interop-venv.sh, named by
/// AUTOGLM_TEST_PYTHON), which reads AutoGLM's files with the real other side.
enum InteropPython {
    /// The interpreter, once `module` imports in it; skips the test with the reason otherwise.
    static func require(module: String) throws -> String {
        guard let python = ProcessInfo.processInfo.environment["AUTOGLM_TEST_PYTHON"], !python.isEmpty else {
            throw XCTSkip("AUTOGLM_TEST_PYTHON is not set: run `export AUTOGLM_TEST_PYTHON=$(scripts/interop-venv.sh)` to check against \(module)")
        }
        let probe = try PluginBuilder.run([python, "-c", "import \(module)"])
        guard probe.status == 0 else {
            throw XCTSkip("\(module) does not import with AUTOGLM_TEST_PYTHON=\(python) (add it to scripts/interop-requirements.txt and rerun scripts/interop-venv.sh): \(probe.output.suffix(300))")
        }
        return python
    }

    /// Runs `script` with `python` and `arguments`; returns what it wrote to the file named by its
    /// last argument, which this adds (stdout and stderr carry library warnings). Fails the test
    /// with the output if the script fails.
    static func run(_ python: String, script: String, arguments: [String],
                    file: StaticString = #filePath, line: UInt = #line) throws -> Data {
        let dir = try PluginBuilder.temporaryDirectory("py")
        let scriptPath = dir.appendingPathComponent("script.py").path, out = dir.appendingPathComponent("out").path
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let result = try PluginBuilder.run([python, scriptPath] + arguments + [out])
        XCTAssertEqual(result.status, 0, "python failed:\n\(result.output)", file: file, line: line)
        return try Data(contentsOf: URL(fileURLWithPath: out))
    }
}
