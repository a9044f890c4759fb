import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// The bundled `ema` and `swa` callbacks against their formulas, computed in Double from the
/// parameter history of the same run, and the callback access to parameters they stand on
/// (ABI 1.2 model_param, Fixtures/param_access.c): the evaluation measures the average, the
/// training continues bit for bit from the trained weights, and the checkpoint holds the average.
final class WeightAveragingTests: XCTestCase {
    private static let registry = try! PluginBuilder.bundledRegistry(adding: ["param_access.c"])
    private static let steps = 12

    /// A 12-step run evaluated once, after the last step, with `callbacks`.
    private func config(_ label: String, callbacks: [(String, [String: ParameterValue])]) throws -> RunConfig {
        var config = TrainingTests.config(runDir: try PluginBuilder.temporaryDirectory(label).path, steps: Self.steps)
        config.train.evalInterval = 0
        config.callbacks = callbacks.map { name, overrides in
            ComponentSelection(kind: .callback, name: name,
                               parameters: Self.registry.defaultParameters(kind: .callback, name: name).merging(overrides) { $1 })
        }
        return config
    }

    /// Trains one step at a time and returns the session and every parameter's values after
    /// each step (history[t - 1][parameter]).
    private func trainRecording(_ config: RunConfig) throws -> (Session, [[[Float]]]) {
        let session = try TrainingTests.session(config, registry: Self.registry)
        var history: [[[Float]]] = []
        for _ in 0..<Self.steps {
            _ = try session.train(steps: 1)
            history.append(session.model.parameters.map(\.values))
        }
        return (session, history)
    }

    /// val/loss of a fresh session of `config` (no callbacks) with `weights` put in: the same
    /// validation batches as the first evaluation of any run of this config.
    private func validationLoss(_ config: RunConfig, weights: [[Double]]) throws -> Double {
        var plain = config
        plain.callbacks = []
        plain.run.dir = try PluginBuilder.temporaryDirectory("averaged-eval").path
        let session = try TrainingTests.session(plain, registry: Self.registry)
        for (p, w) in zip(session.model.parameters, weights) { for i in 0..<p.count { p.data[i] = Float(w[i]) } }
        return try XCTUnwrap(session.evaluate().first { $0.name == "val/loss" }?.value)
    }

    /// The averaged weights and update count saved in the run's last checkpoint by the callback
    /// at `callbacks.0` (format in plugins/common/aglm_average_util.h).
    private func savedAverage(_ session: Session, magic: String) throws -> (updates: Int, names: [String], values: [[Float]]) {
        let trainer = session.runDirectory.appendingPathComponent(String(format: "checkpoints/step-%08d/trainer.json", Self.steps))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: trainer)) as? [String: Any])
        let components = try XCTUnwrap(json["components"] as? [[String: Any]])
        let record = try XCTUnwrap(components.first { $0["instance"] as? String == "callbacks.0" })
        let bytes = [UInt8](try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(record["state"] as? String))))
        var at = 8
        func u64() -> Int {
            defer { at += 8 }
            return (0..<8).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) }
        }
        XCTAssertEqual(String(decoding: bytes[0..<4], as: UTF8.self), magic)
        let updates = u64(), count = u64()
        var names: [String] = [], values: [[Float]] = []
        for _ in 0..<count {
            let length = u64()
            names.append(String(decoding: bytes[at..<(at + length)], as: UTF8.self))
            at += length
            let n = u64()
            values.append((0..<n).map { e in
                Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + 4 * e + $1]) << (8 * $1) })
            })
            at += 4 * n
        }
        XCTAssertEqual(at, bytes.count, "the whole state was read")
        return (updates, names, values)
    }

    /// Checks a run with an averaging callback against `reference` (the averaged weights in
    /// Double from the history), `updates` the number of averaging steps.
    private func checkAveraging(_ name: String, _ overrides: [String: ParameterValue], magic: String, updates: Int,
                                reference: ([[[Float]]]) -> [[Double]]) throws {
        let config = try config(name, callbacks: [(name, overrides)])
        let (session, history) = try trainRecording(config)
        let averaged = reference(history)
        let measured = try XCTUnwrap(session.state.metrics.first { $0.name == "val/loss" }?.value)

        // The evaluation measured the averaged weights ...
        XCTAssertEqual(measured, try validationLoss(config, weights: averaged), accuracy: 1e-5 * measured, name)
        // ... not the trained ones, which training went on from, exactly as without the callback.
        let plain = try TrainingTests.session(try self.config("\(name)-plain", callbacks: []), registry: Self.registry)
        let plainResult = try plain.train()
        XCTAssertEqual(session.model.parameters.map(\.values), plain.model.parameters.map(\.values), "\(name) changed the training")
        let plainLoss = try XCTUnwrap(plainResult.metrics.first { $0.name == "val/loss" }?.value)
        XCTAssertGreaterThan(abs(plainLoss - measured), 1e-4, "\(name): the evaluation did not see other weights")

        // The checkpoint holds the average and its count.
        let saved = try savedAverage(session, magic: magic)
        XCTAssertEqual(saved.updates, updates)
        XCTAssertEqual(saved.names, session.model.parameters.map { $0.name ?? "" })
        for (p, (got, want)) in zip(saved.names, zip(saved.values, averaged)) {
            XCTAssertLessThanOrEqual(toleranceRatio(got, want, atol: 1e-6, rtol: 1e-5), 1, "\(name): saved average of \(p)")
        }
    }

    func testEMAFollowsItsFormulaIsEvaluatedAndIsCheckpointed() throws {
        // decay 0.8, every 2 steps after step 3: updates after steps 5, 7, 9, 11.
        let decay = 0.8
        try checkAveraging("ema", ["decay": .number(decay), "every": .number(2), "start_step": .number(3)], magic: "EMAW",
                           updates: 4) { history in
            var average = history[4].map { $0.map(Double.init) }               // the first update copies (step 5)
            for t in [7, 9, 11] {
                for (p, values) in history[t - 1].enumerated() {
                    for i in values.indices { average[p][i] += (1 - decay) * (Double(values[i]) - average[p][i]) }
                }
            }
            return average
        }
    }

    func testSWAIsTheMeanOfTheSampledWeights() throws {
        // start_fraction 0.5 of 12 steps, every 2: the mean of the weights after steps 8, 10, 12.
        try checkAveraging("swa", ["start_fraction": .number(0.5), "every": .number(2)], magic: "SWAW", updates: 3) { history in
            let sampled = [8, 10, 12].map { history[$0 - 1] }
            return sampled[0].indices.map { p in
                sampled[0][p].indices.map { i in sampled.reduce(0.0) { $0 + Double($1[p][i]) } / Double(sampled.count) }
            }
        }
    }

    func testWithoutEvaluateTheRunIsUnchanged() throws {
        let config = try config("ema-off", callbacks: [("ema", ["evaluate": .number(0)])])
        let session = try TrainingTests.session(config, registry: Self.registry)
        let plain = try TrainingTests.session(try self.config("ema-off-plain", callbacks: []), registry: Self.registry)
        XCTAssertEqual(try session.train().metrics.map(\.value), try plain.train().metrics.map(\.value))
    }

    func testCallbacksWriteParametersThroughViews() throws {
        // After one step, a callback that doubles final_norm.weight leaves exactly twice the
        // weights of a run without it (it acts after the optimizer); factor 1 changes nothing.
        func run(_ callbacks: [(String, [String: ParameterValue])]) throws -> [Float] {
            var config = try self.config("access", callbacks: callbacks)
            config.train.steps = 1
            let session = try TrainingTests.session(config, registry: Self.registry)
            _ = try session.train()
            return try XCTUnwrap(session.parameter(named: "final_norm.weight")).values
        }
        let plain = try run([])
        XCTAssertEqual(try run([("param_access", ["factor": .number(2)])]), plain.map { 2 * $0 })
        XCTAssertEqual(try run([("param_access", ["factor": .number(1), "target": .string("blocks.1.attn.qkv.weight")])]), plain)
    }

    func testACallbackErrorNamesTheStepAndTheEventByItsCName() throws {
        let failing = try config("access-fails", callbacks: [("param_access", ["fail_at_step": .number(2)])])
        let session = try TrainingTests.session(failing, registry: Self.registry)
        XCTAssertThrowsError(try session.train()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("component 'param_access' at step 2: on_event(AGLM_EVENT_STEP_END): failing on purpose (status AGLM_ERR_INTERNAL)"), text)
        }
        let missing = try config("access-missing", callbacks: [("param_access", ["target": .string("final_norm.weigth")])])
        XCTAssertThrowsError(try TrainingTests.session(missing, registry: Self.registry).train()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("model_param_find: the model has no parameter 'final_norm.weigth' (did you mean 'final_norm.weight'?)"), text)
        }
    }
}
