import AutoGLM
import Foundation
import XCTest

final class ConfigErrorTests: ConfigTestCase {
    func testUnknownOptimizerKeyWithHint() throws {
        let path = try writeYAML("optimizer:\n  name: adamw\n  lrr: 0.1\n")
        XCTAssertEqual(errorText(file: path), "\(path): optimizer.lrr: unknown key for optimizer 'adamw' (did you mean 'lr'?)")
    }

    func testUnknownHostKeyAndSectionWithHint() throws {
        var path = try writeYAML("train:\n  stpes: 10\n", name: "a.yaml")
        XCTAssertEqual(errorText(file: path), "\(path): train.stpes: unknown key (did you mean 'train.steps'?)")
        path = try writeYAML("trian:\n  steps: 10\n", name: "b.yaml")
        XCTAssertEqual(errorText(file: path), "\(path): trian.steps: unknown section 'trian' (did you mean 'train'?)")
        XCTAssertEqual(errorText(set: ["modle.n_layer=2"]),
                       "--set modle.n_layer=2: unknown section 'modle' (did you mean 'model'?)")
        XCTAssertEqual(errorText(set: ["model=2"]), "--set model=2: 'model' is a section: expected keys under it, not a value")
        XCTAssertEqual(errorText(set: ["attention.blok=2", "attention.name=flash"]),
                       "--set attention.blok=2: unknown key for attention 'flash' (did you mean 'block'?)")
    }

    func testTypeErrors() throws {
        XCTAssertEqual(errorText(set: ["model.n_layer=abc"]), #"--set model.n_layer=abc: expected an integer, got "abc""#)
        XCTAssertEqual(errorText(set: ["model.n_layer=2.5"]), #"--set model.n_layer=2.5: expected an integer, got "2.5""#)
        XCTAssertEqual(errorText(env: ["AUTOGLM_TRAIN_MIN_LR": "small"]),
                       #"env AUTOGLM_TRAIN_MIN_LR: train.min_lr: expected a number, got "small""#)
        XCTAssertEqual(errorText(set: ["model.position_embedding=maybe"]),
                       #"--set model.position_embedding=maybe: expected true or false, got "maybe""#)
        XCTAssertEqual(errorText(set: ["train.lr_schedule=cosin"]),
                       #"--set train.lr_schedule=cosin: expected one of cosine, linear, constant, got "cosin" (did you mean 'cosine'?)"#)
        XCTAssertEqual(errorText(set: ["optimizer.betas=0.9,x"]),
                       #"--set optimizer.betas=0.9,x: expected a list of 2 numbers, got "x" at index 1"#)
        XCTAssertEqual(errorText(set: ["callbacks=early_stopping", "params.early_stopping.metric=loss"]),
                       #"--set params.early_stopping.metric=loss: expected one of val_loss, val_ppl, got "loss""#)
        let path = try writeYAML("train:\n  steps: [1, 2]\n")
        XCTAssertEqual(errorText(file: path), "\(path): train.steps: expected a single value, got a list [1,2]")
    }

    func testRangeAndListLengthErrors() throws {
        XCTAssertEqual(errorText(env: ["AUTOGLM_OPTIMIZER_LR": "-1"]), "env AUTOGLM_OPTIMIZER_LR: optimizer.lr must be > 0, got -1")
        XCTAssertEqual(errorText(env: ["AUTOGLM_OPTIMIZER_LR": "0"]), "env AUTOGLM_OPTIMIZER_LR: optimizer.lr must be > 0, got 0")
        XCTAssertEqual(errorText(set: ["data.val_fraction=0.7"]),
                       "--set data.val_fraction=0.7: data.val_fraction must be in (0, 0.5], got 0.7")
        XCTAssertEqual(errorText(set: ["train.threads=0"]), "--set train.threads=0: train.threads must be >= 1, got 0")
        XCTAssertEqual(errorText(set: ["optimizer.betas=0.9,1.5"]),
                       "--set optimizer.betas=0.9,1.5: optimizer.betas[1] must be in [0, 1), got 1.5")
        let path = try writeYAML("optimizer:\n  betas: [0.9, 0.95, 0.99]\n")
        XCTAssertEqual(errorText(file: path), "\(path): optimizer.betas: expected a list of 2 numbers, got 3")
    }

    func testUnknownComponent() throws {
        let path = try writeYAML("attention:\n  name: flsh\n")
        XCTAssertEqual(errorText(file: path),
                       "\(path): attention.name: no attention component named 'flsh' (did you mean 'flash'?); available: causal_dense, flash")
        XCTAssertEqual(errorText(set: ["evaluators=perplexity,acuracy"]),
                       "--set evaluators=perplexity,acuracy: no evaluator component named 'acuracy' (did you mean 'accuracy'?); available: accuracy, perplexity")
        XCTAssertEqual(errorText(set: ["evaluators=perplexity,perplexity"]),
                       "--set evaluators=perplexity,perplexity: 'perplexity' is listed twice")
    }

    func testParamsErrors() throws {
        var path = try writeYAML("params:\n  early_stopping: { patience: 0 }\n", name: "a.yaml")
        XCTAssertEqual(errorText(file: path), "\(path): params.early_stopping.patience must be >= 1, got 0",
                       "validated though not listed")
        path = try writeYAML("evaluators: [accuracy]\nparams:\n  acuracy: { top_k: 3 }\n", name: "b.yaml")
        XCTAssertEqual(errorText(file: path),
                       "\(path): params.acuracy: no component named 'acuracy' (did you mean 'accuracy'?)")
        path = try writeYAML("callbacks: [early_stopping]\nparams:\n  early_stopping: { patiense: 3 }\n", name: "c.yaml")
        XCTAssertEqual(errorText(file: path),
                       "\(path): params.early_stopping.patiense: unknown key for callback 'early_stopping' (did you mean 'patience'?)")
        XCTAssertEqual(errorText(set: ["params.perplexity.x=1"]),
                       "--set params.perplexity.x=1: unknown key for evaluator 'perplexity' (it takes no parameters)")
    }

    func testEmbeddingNotDivisibleByHeads() throws {
        let path = try writeYAML("model:\n  n_embd: 130\n")
        XCTAssertEqual(errorText(file: path, set: ["model.n_head=4"]),
                       "model.n_embd (130, from \(path)) must be divisible by model.n_head (4, from --set model.n_head=4)")
    }

    func testUnknownEnvironmentVariable() throws {
        XCTAssertEqual(errorText(env: ["AUTOGLM_TRAIN_STPES": "3"]),
                       "env AUTOGLM_TRAIN_STPES: unknown variable: no config key maps to it (did you mean 'AUTOGLM_TRAIN_STEPS'?)")
        XCTAssertEqual(errorText(env: ["AUTOGLM_OPTIMIZER_MOMENTUM": "0.9"]).hasPrefix("env AUTOGLM_OPTIMIZER_MOMENTUM: unknown variable"), true)
        // Ignored variables and component keys of selected components are fine.
        XCTAssertNoThrow(try resolve(env: ["AUTOGLM_PLUGIN_PATH": "/p", "AUTOGLM_OPTIMIZER_EPS": "1e-6", "PATH": "/bin"]))
        XCTAssertTrue(ConfigEnvironment.ignoredVariables.contains("AUTOGLM_PLUGIN_PATH"))
    }

    func testMalformedSet() throws {
        XCTAssertThrowsError(try ConfigLoader.load(file: nil, environment: [:], overrides: ["foo"])) {
            XCTAssertEqual("\($0)", "--set foo: expected key=value, e.g. --set optimizer.lr=3e-4")
        }
        XCTAssertThrowsError(try ConfigLoader.load(file: nil, environment: [:], overrides: ["a..b=1"])) {
            XCTAssertEqual("\($0)", #"--set a..b=1: expected key=value with a dotted key such as optimizer.lr, got key "a..b""#)
        }
    }

    func testYAMLSyntaxErrorNamesFileAndLine() throws {
        let path = try writeYAML("train:\n  steps: 10\n  batch_size: [1, 2\nmodel:\n  n_layer: 2\n")
        XCTAssertThrowsError(try ConfigLoader.load(file: path, environment: [:], overrides: [])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("\(path):"), text)
            XCTAssertTrue(text.contains("YAML syntax error"), text)
            let line = text.dropFirst(path.count + 1).prefix { $0.isNumber }
            XCTAssertFalse(line.isEmpty, text)
        }
        let tabs = try writeYAML("train:\n\tsteps: 1\n", name: "tabs.yaml")
        XCTAssertThrowsError(try ConfigLoader.load(file: tabs, environment: [:], overrides: [])) {
            XCTAssertTrue("\($0)".hasPrefix("\(tabs):2:"), "\($0)")
        }
    }

    func testMissingFile() {
        XCTAssertThrowsError(try ConfigLoader.load(file: "/nonexistent/x.yaml", environment: [:], overrides: [])) {
            XCTAssertEqual("\($0)", "/nonexistent/x.yaml: config file not found")
        }
    }

    func testArraysOfMapsAreRejected() throws {
        let path = try writeYAML("evaluators:\n  - name: perplexity\n")
        XCTAssertThrowsError(try ConfigLoader.load(file: path, environment: [:], overrides: [])) {
            XCTAssertEqual("\($0)", "\(path):2: evaluators: list items must be plain values (numbers or names), not maps or lists")
        }
    }
}
