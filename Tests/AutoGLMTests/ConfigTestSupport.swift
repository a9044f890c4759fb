import AutoGLM
import Foundation
import XCTest

/// An in-memory component registry for config tests.
struct FakeSchemas: ComponentSchemaSource {
    let schemas: [ComponentSchema]

    func schema(kind: ComponentKind, name: String) -> ComponentSchema? {
        schemas.first { $0.kind == kind && $0.name == name }
    }

    func names(kind: ComponentKind) -> [String] {
        schemas.filter { $0.kind == kind }.map(\.name)
    }

    /// Attention: causal_dense (dropout), flash (block); optimizers: adamw (betas, weight_decay,
    /// eps), sgd (momentum, nesterov); evaluators: perplexity, accuracy (top_k); callbacks:
    /// early_stopping (patience, metric), jsonl_log (path).
    static let standard = FakeSchemas(schemas: [
        ComponentSchema(kind: .attention, name: "causal_dense", parameters: [
            ParameterSpec(name: "dropout", kind: .float, doc: "attention dropout", defaultValue: .number(0), min: 0, max: 1),
        ]),
        ComponentSchema(kind: .attention, name: "flash", parameters: [
            ParameterSpec(name: "block", kind: .int, doc: "tile size", defaultValue: .number(32), min: 1),
        ]),
        ComponentSchema(kind: .optimizer, name: "adamw", parameters: [
            ParameterSpec(name: "betas", kind: .floatList, doc: "moment decay", defaultValue: .list([0.9, 0.99]),
                          min: 0, max: 1, maxExclusive: true, listLength: 2),
            ParameterSpec(name: "weight_decay", kind: .float, doc: "decoupled decay", defaultValue: .number(0.1), min: 0),
            ParameterSpec(name: "eps", kind: .float, doc: "denominator epsilon", defaultValue: .number(1e-8), min: 0),
        ]),
        ComponentSchema(kind: .optimizer, name: "sgd", parameters: [
            ParameterSpec(name: "momentum", kind: .float, doc: "momentum", defaultValue: .number(0), min: 0, max: 1),
            ParameterSpec(name: "nesterov", kind: .bool, doc: "Nesterov momentum", defaultValue: .number(0)),
        ]),
        ComponentSchema(kind: .evaluator, name: "perplexity", parameters: []),
        ComponentSchema(kind: .evaluator, name: "accuracy", parameters: [
            ParameterSpec(name: "top_k", kind: .int, doc: "k", defaultValue: .number(1), min: 1),
        ]),
        ComponentSchema(kind: .callback, name: "early_stopping", parameters: [
            ParameterSpec(name: "patience", kind: .int, doc: "evaluations without improvement", defaultValue: .number(3), min: 1),
            ParameterSpec(name: "metric", kind: .choice, doc: "watched metric", defaultValue: .string("val_loss"),
                          choices: ["val_loss", "val_ppl"]),
        ]),
        ComponentSchema(kind: .callback, name: "jsonl_log", parameters: [
            ParameterSpec(name: "path", kind: .string, doc: "log file", defaultValue: .string("log.jsonl")),
        ]),
    ])
}

/// Base class: a temporary directory for YAML files and helpers to load and resolve.
class ConfigTestCase: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("autoglm-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Writes `text` to `name` in the temporary directory and returns its path.
    func writeYAML(_ text: String, name: String = "config.yaml") throws -> String {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// Loads and resolves against the standard fake schemas.
    func resolve(file: String? = nil, env: [String: String] = [:], set: [String] = []) throws -> ResolvedConfig {
        try ConfigLoader.load(file: file, environment: env, overrides: set).resolve(schemas: FakeSchemas.standard)
    }

    /// The text of the `ConfigError` that loading/resolving throws.
    func errorText(file: String? = nil, env: [String: String] = [:], set: [String] = [],
                   line: UInt = #line) -> String {
        do {
            _ = try resolve(file: file, env: env, set: set)
            XCTFail("expected a ConfigError", line: line)
            return ""
        } catch let error as ConfigError {
            return error.description
        } catch {
            XCTFail("expected a ConfigError, got \(error)", line: line)
            return ""
        }
    }
}
