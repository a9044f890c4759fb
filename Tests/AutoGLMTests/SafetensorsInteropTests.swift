import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// AutoGLM's safetensors files against the real other side: the Python `safetensors` package
/// (with numpy), from the interop venv named by AUTOGLM_TEST_PYTHON (scripts/interop-venv.sh).
final class SafetensorsInteropTests: XCTestCase {
    private var directory: URL!
    private var python: String!

    override func setUpWithError() throws {
        guard let python = ProcessInfo.processInfo.environment["AUTOGLM_TEST_PYTHON"], !python.isEmpty else {
            throw XCTSkip("AUTOGLM_TEST_PYTHON is not set: run `export AUTOGLM_TEST_PYTHON=$(scripts/interop-venv.sh)` to test against Python's safetensors")
        }
        let probe = try PluginBuilder.run([python, "-c", "import safetensors.numpy, numpy"])
        guard probe.status == 0 else {
            throw XCTSkip("\(python) cannot import safetensors and numpy (scripts/interop-requirements.txt): \(probe.output)")
        }
        self.python = python
        directory = try PluginBuilder.temporaryDirectory("autoglm-safetensors-interop")
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// Tensors with awkward values and shapes: random normals, a scalar, an empty tensor,
    /// ±0, ±infinity, a NaN, subnormals, the extremes; names that need JSON escapes.
    private func sampleTensors() -> [(name: String, tensor: Tensor)] {
        var rng = RandomGenerator(seed: 11)
        return [
            ("blocks.0.attn.qkv.weight", Tensor(shape: [8, 24], values: (0..<192).map { _ in Float(rng.normal()) })),
            ("tok_emb.weight", Tensor(shape: [5, 3, 2], values: (0..<30).map { _ in Float(rng.normal() * 1e-3) })),
            ("special", Tensor(shape: [8], values: [0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude,
                                                    -.greatestFiniteMagnitude, .leastNormalMagnitude])),
            ("scalar", Tensor(shape: [], values: [2.5])),
            ("empty", Tensor(zeros: [4, 0])),
            ("naïve \"name\"\t✓", Tensor(shape: [1], values: [7])),
        ]
    }

    func testPythonReadsEveryValueAndTheMetadataOfAnAutoGLMFile() throws {
        let url = directory.appendingPathComponent("model.safetensors")
        let tensors = sampleTensors()
        let metadata = ["format": "autoglm", "step": "300", "note": "é \"quoted\" \\ \n"]
        try Safetensors.write(tensors, metadata: metadata, to: url)
        let report = try runPython("""
            import json, sys
            from safetensors import safe_open
            from safetensors.numpy import load_file
            tensors = load_file(sys.argv[1])
            with safe_open(sys.argv[1], framework="numpy") as f:
                metadata = f.metadata()
            out = {"metadata": metadata, "tensors": {name: {"dtype": str(a.dtype), "shape": list(a.shape),
                   "bits": a.reshape(-1).view("<u4").tolist()} for name, a in tensors.items()}}
            json.dump(out, open(sys.argv[2], "w"))
            """, arguments: [url.path])
        XCTAssertEqual(report["metadata"] as? [String: String], metadata)
        let read = try XCTUnwrap(report["tensors"] as? [String: [String: Any]])
        XCTAssertEqual(Set(read.keys), Set(tensors.map(\.name)))
        for (name, tensor) in tensors {
            let entry = try XCTUnwrap(read[name], name)
            XCTAssertEqual(entry["dtype"] as? String, "float32", name)
            XCTAssertEqual(entry["shape"] as? [Int], tensor.shape, name)
            XCTAssertEqual((entry["bits"] as? [NSNumber])?.map(\.uint32Value), tensor.values.map(\.bitPattern), name)
        }
    }

    func testAutoGLMWritesTheSameBytesAsPythonsSaveFile() throws {
        // With at most one metadata key (Python's writer orders a larger map at random).
        let url = directory.appendingPathComponent("autoglm.safetensors")
        let tensors = sampleTensors()
        try Safetensors.write(tensors, metadata: ["format": "pt"], to: url)
        let bits = tensors.map { ($0.name, $0.tensor.shape, $0.tensor.values.map(\.bitPattern)) }
        let reference = directory.appendingPathComponent("python.safetensors")
        _ = try runPython("""
            import json, sys
            import numpy as np
            from safetensors.numpy import save_file
            spec = json.load(open(sys.argv[2]))
            save_file({name: np.array(bits, dtype="<u4").view("<f4").reshape(shape) for name, shape, bits in spec},
                      sys.argv[1], metadata={"format": "pt"})
            json.dump({}, open(sys.argv[3], "w"))
            """, arguments: [reference.path, try writeJSON(bits.map { [$0.0, $0.1, $0.2] as [Any] })])
        XCTAssertEqual(try Data(contentsOf: url), try Data(contentsOf: reference))
    }

    func testAutoGLMReadsAFileWrittenByPython() throws {
        let url = directory.appendingPathComponent("python.safetensors")
        let report = try runPython("""
            import json, sys
            import numpy as np
            from safetensors.numpy import save_file
            rng = np.random.default_rng(3)
            tensors = {"wte": rng.standard_normal((7, 5)).astype(np.float32),
                       "ln.bias": np.array([np.inf, -0.0, np.nan, 1e-45], dtype=np.float32),
                       "scalar": np.array(3.0, dtype=np.float32), "empty": np.zeros((0, 3), dtype=np.float32)}
            save_file(tensors, sys.argv[1], metadata={"framework": "numpy", "epoch": "2"})
            json.dump({name: {"shape": list(a.shape), "bits": a.reshape(-1).view("<u4").tolist()}
                       for name, a in tensors.items()}, open(sys.argv[2], "w"))
            """, arguments: [url.path])
        let (tensors, metadata) = try Safetensors.read(from: url)
        XCTAssertEqual(metadata, ["framework": "numpy", "epoch": "2"])
        XCTAssertEqual(Set(tensors.keys), Set(report.keys))
        for (name, value) in report {
            let expected = try XCTUnwrap(value as? [String: Any])
            let tensor = try XCTUnwrap(tensors[name], name)
            XCTAssertEqual(tensor.shape, expected["shape"] as? [Int], name)
            XCTAssertEqual(tensor.values.map(\.bitPattern), (expected["bits"] as? [NSNumber])?.map(\.uint32Value), name)
        }
    }

    func testPythonFilesOfOtherDtypesAreConvertedOrRefusedByName() throws {
        // F16 and F64 are converted to float32 as numpy's astype(float32) converts them.
        let floats = directory.appendingPathComponent("floats.safetensors")
        let report = try runPython("""
            import json, sys
            import numpy as np
            from safetensors.numpy import save_file
            rng = np.random.default_rng(4)
            tensors = {"half": (rng.standard_normal((4, 6)) * 100).astype(np.float16),
                       "half.special": np.array([65504, 6e-8, -np.inf, 0.1], dtype=np.float16),
                       "double": rng.standard_normal(9) * np.array([1, 1e-40, 1e40] * 3),
                       "single": np.array([1.5], dtype=np.float32)}
            save_file(tensors, sys.argv[1])
            json.dump({name: a.astype(np.float32).reshape(-1).view("<u4").tolist() for name, a in tensors.items()},
                      open(sys.argv[2], "w"))
            """, arguments: [floats.path])
        let (tensors, _) = try Safetensors.read(from: floats)
        XCTAssertEqual(Set(tensors.keys), ["half", "half.special", "double", "single"])
        for (name, bits) in report {
            XCTAssertEqual(tensors[name]?.values.map(\.bitPattern), (bits as? [NSNumber])?.map(\.uint32Value), name)
        }
        XCTAssertEqual(tensors["half"]?.shape, [4, 6])

        // Integer and boolean tensors are refused, the whole file, naming each of them.
        let mixed = directory.appendingPathComponent("mixed.safetensors")
        _ = try runPython("""
            import json, sys
            import numpy as np
            from safetensors.numpy import save_file
            save_file({"weight": np.ones((2, 2), dtype=np.float32), "step": np.array([7], dtype=np.int64),
                       "mask": np.array([True, False]), "ids": np.arange(3, dtype=np.uint8)}, sys.argv[1])
            json.dump({}, open(sys.argv[2], "w"))
            """, arguments: [mixed.path])
        XCTAssertThrowsError(try Safetensors.read(from: mixed)) { error in
            XCTAssertEqual("\(error)", "\(mixed.path): cannot load tensors 'step' (I64), 'ids' (U8), 'mask' (BOOL): AutoGLM loads F32, F16, BF16 and F64 tensors (as float32); convert the others to float32 before loading")
        }
    }

    // MARK: Helpers

    /// A Python script that failed, with its output.
    private struct PythonFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `script` with `arguments` plus the path of a file it must write JSON to; returns
    /// that JSON object.
    private func runPython(_ script: String, arguments: [String]) throws -> [String: Any] {
        let output = directory.appendingPathComponent("\(UUID().uuidString).json")
        let (status, log) = try PluginBuilder.run([python, "-c", script] + arguments + [output.path])
        guard status == 0 else { throw PythonFailure(description: "python exited with \(status):\n\(log)") }
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [String: Any])
    }

    /// Writes `value` as JSON to a new file in the test directory; returns its path.
    private func writeJSON(_ value: Any) throws -> String {
        let url = directory.appendingPathComponent("\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: value).write(to: url)
        return url.path
    }
}
