import AutoGLM
import Foundation
import XCTest

final class ConfigLayeringTests: ConfigTestCase {
    func testDefaultsResolveToTheRecipe() throws {
        let resolved = try resolve()
        let c = resolved.config
        XCTAssertEqual(c.values, [
            "data.path": .string("/usr/share/games/fortunes"), "data.val_fraction": .number(0.1),
            "model.n_layer": .number(4), "model.n_head": .number(4), "model.n_embd": .number(128),
            "model.block_size": .number(64), "model.position_embedding": .number(1),
            "train.steps": .number(2000), "train.batch_size": .number(12), "train.accumulation_steps": .number(1),
            "train.warmup_steps": .number(100), "train.min_lr": .number(1e-4), "train.lr_schedule": .hook(HookBinding(shorthand: "cosine")),
            "train.grad_clip": .number(1), "train.grad_clip_schedule": .hook(HookBinding(shorthand: "constant")),
            "train.accumulation_schedule": .hook(HookBinding(shorthand: "constant")),
            "train.weight_decay_schedule": .hook(HookBinding(shorthand: "constant")), "train.eval_interval": .number(250), "train.eval_batches": .number(200),
            "train.log_interval": .number(10), "train.seed": .number(1337), "train.threads": .number(2),
            "train.precision": .string("fp32"), "train.activation_checkpointing": .string("none"),
            "train.on_nonfinite": .string("stop"), "train.max_skipped_steps": .number(10),
            "run.dir": .string("runs/latest"), "run.isa": .string("auto"), "checkpoint.every": .number(0), "checkpoint.keep_last": .number(3),
            "checkpoint.best_metric": .string("val/loss"), "checkpoint.best_mode": .string("min"),
            "attention.name": .string("flash"), "optimizer.name": .string("adamw"),
            "optimizer.lr": .number(1e-3), "evaluators": .strings(["perplexity"]), "callbacks": .strings([]),
            "distributed.bucket_mb": .number(25), "plugins.paths": .strings([]),
        ])
        // Read by key, typed.
        XCTAssertEqual(c.data.path, "/usr/share/games/fortunes")
        XCTAssertEqual(c.model.positionEmbedding, true)
        XCTAssertEqual(c.train.steps, 2000)
        XCTAssertEqual(c.train.lrSchedule, HookBinding(shorthand: "cosine"))
        XCTAssertEqual(c.train.minLR, 1e-4)
        XCTAssertEqual(c.run.dir, "runs/latest")
        XCTAssertEqual(c.run.isa, .auto)
        XCTAssertEqual(c.train.precision, .fp32)
        XCTAssertEqual(c.train.activationCheckpointing, ActivationCheckpointing.none)
        XCTAssertEqual(c.attention, ComponentSelection(kind: .attention, name: "flash", parameters: ["block": .number(32)]))
        XCTAssertEqual(c.optimizer, ComponentSelection(kind: .optimizer, name: "adamw", parameters: [
            "betas": .list([0.9, 0.99]), "weight_decay": .number(0.1), "eps": .number(1e-8)]))
        XCTAssertEqual(c.lr, 1e-3)
        XCTAssertEqual(c.evaluators, [ComponentSelection(kind: .evaluator, name: "perplexity", parameters: [:])])
        XCTAssertEqual(c.callbacks, [])
        XCTAssertEqual(c.plugins.paths, [])
        XCTAssertTrue(resolved.entries.allSatisfy { $0.source.description == "default" })
        XCTAssertEqual(resolved.entries.map(\.key), [
            "data.path", "data.val_fraction", "model.n_layer", "model.n_head", "model.n_embd", "model.block_size",
            "model.position_embedding", "train.steps", "train.batch_size", "train.accumulation_steps",
            "train.warmup_steps", "train.min_lr", "train.lr_schedule", "train.grad_clip", "train.grad_clip_schedule",
            "train.accumulation_schedule", "train.weight_decay_schedule", "train.eval_interval",
            "train.eval_batches", "train.log_interval", "train.seed", "train.threads", "train.precision",
            "train.activation_checkpointing", "train.on_nonfinite", "train.max_skipped_steps", "run.dir", "run.isa",
            "checkpoint.every", "checkpoint.keep_last", "checkpoint.best_metric",
            "checkpoint.best_mode", "attention.name", "attention.block", "optimizer.name", "optimizer.lr", "optimizer.betas",
            "optimizer.weight_decay", "optimizer.eps", "evaluators", "callbacks", "distributed.bucket_mb", "plugins.paths",
        ])
        XCTAssertEqual(c.train.lrSchedule, HookBinding(shorthand: "cosine"))
    }

    func testFileOverridesDefaults() throws {
        let path = try writeYAML("""
            # a comment
            data:
              path: /tmp/shakespeare.txt
            model:
              n_layer: 6        # deeper
              position_embedding: false
            train:
              steps: 500
              lr_schedule: linear
            attention:
              name: flash
              block: 64
            optimizer:
              name: adamw
              lr: 3.0e-4
              betas: [0.9, 0.95]
            evaluators: [perplexity, accuracy]
            callbacks: [early_stopping]
            params:
              accuracy: { top_k: 5 }
              early_stopping:
                patience: 7
            plugins:
              paths: [/opt/plugins, ./more]
            """)
        let resolved = try resolve(file: path)
        let c = resolved.config
        XCTAssertEqual(c.data.path, "/tmp/shakespeare.txt")
        XCTAssertEqual(c.model.nLayer, 6)
        XCTAssertFalse(c.model.positionEmbedding)
        XCTAssertEqual(c.model.nHead, 4)
        XCTAssertEqual(c.train.steps, 500)
        XCTAssertEqual(c.train.lrSchedule, HookBinding(shorthand: "linear"))
        XCTAssertEqual(c.attention, ComponentSelection(kind: .attention, name: "flash", parameters: ["block": .number(64)]))
        XCTAssertEqual(c.lr, 3e-4)
        XCTAssertEqual(c.optimizer.parameters["betas"], .list([0.9, 0.95]))
        XCTAssertEqual(c.optimizer.parameters["weight_decay"], .number(0.1))
        XCTAssertEqual(c.evaluators.map(\.name), ["perplexity", "accuracy"])
        XCTAssertEqual(c.evaluators[1].parameters, ["top_k": .number(5)])
        XCTAssertEqual(c.callbacks, [ComponentSelection(kind: .callback, name: "early_stopping",
                                                        parameters: ["patience": .number(7), "metric": .string("val_loss")])])
        // A relative path in a file resolves against the file's directory (main's 2944200).
        XCTAssertEqual(c.plugins.paths, ["/opt/plugins", directory.appendingPathComponent("more").path])
        XCTAssertEqual(resolved.entry(forKey: "train.steps")?.source, .file(path))
        XCTAssertEqual(resolved.entry(forKey: "train.batch_size")?.source, .default)
        XCTAssertEqual(resolved.entry(forKey: "params.early_stopping.metric")?.source,
                       .componentDefault(kind: .callback, name: "early_stopping"))
        XCTAssertEqual(resolved.entry(forKey: "params.early_stopping.patience")?.source, .file(path))
    }

    func testEnvironmentOverridesFile() throws {
        let path = try writeYAML("train:\n  steps: 500\n  batch_size: 8\noptimizer:\n  lr: 0.01\n")
        let resolved = try resolve(file: path, env: ["AUTOGLM_TRAIN_STEPS": "700", "AUTOGLM_OPTIMIZER_LR": "3e-4",
                                                     "HOME": "/root", "AUTOGLM_PLUGIN_PATH": "/x:/y"])
        XCTAssertEqual(resolved.config.train.steps, 700)
        XCTAssertEqual(resolved.config.train.batchSize, 8)
        XCTAssertEqual(resolved.config.lr, 3e-4)
        XCTAssertEqual(resolved.entry(forKey: "train.steps")?.source, .environment("AUTOGLM_TRAIN_STEPS"))
        XCTAssertEqual(resolved.entry(forKey: "train.batch_size")?.source, .file(path))
    }

    func testCommandLineOverridesEnvironment() throws {
        let path = try writeYAML("train:\n  steps: 500\n")
        let resolved = try resolve(file: path, env: ["AUTOGLM_TRAIN_STEPS": "700", "AUTOGLM_TRAIN_SEED": "1"],
                                   set: ["train.steps=800", "train.steps=900", "model.n_head=8"])
        XCTAssertEqual(resolved.config.train.steps, 900, "the last --set of a key wins")
        XCTAssertEqual(resolved.config.train.seed, 1)
        XCTAssertEqual(resolved.config.model.nHead, 8)
        XCTAssertEqual(resolved.entry(forKey: "train.steps")?.source, .commandLine("train.steps=900"))
        XCTAssertEqual(resolved.entry(forKey: "train.seed")?.source, .environment("AUTOGLM_TRAIN_SEED"))
    }

    func testConfigShowNamesEachSource() throws {
        let path = try writeYAML("train:\n  steps: 500\n")
        let resolved = try resolve(file: path, env: ["AUTOGLM_OPTIMIZER_LR": "3e-4"], set: ["model.n_layer=2"])
        let lines = resolved.render()
        XCTAssertEqual(lines.count, resolved.entries.count)
        func line(_ key: String) -> String? { lines.first { $0.hasPrefix(key + " ") } }
        XCTAssertTrue(line("train.steps")?.hasSuffix("# file \(path)") ?? false, lines.joined(separator: "\n"))
        XCTAssertTrue(line("optimizer.lr")?.hasSuffix("# env AUTOGLM_OPTIMIZER_LR") ?? false)
        XCTAssertTrue(line("model.n_layer")?.hasSuffix("# --set") ?? false)
        XCTAssertTrue(line("train.seed")?.hasSuffix("# default") ?? false)
        XCTAssertEqual(line("optimizer.betas")?.replacingOccurrences(of: " +", with: " ", options: .regularExpression),
                       "optimizer.betas = [0.9, 0.99] # default")
        XCTAssertEqual(line("model.position_embedding")?.split(separator: "=")[1].split(separator: "#")[0]
                        .trimmingCharacters(in: .whitespaces), "true")
        // Aligned: every "=" and every "#" in the same column.
        XCTAssertEqual(Set(lines.map { $0.firstIndex(of: "=")!.utf16Offset(in: $0) }).count, 1)
        XCTAssertEqual(Set(lines.map { $0.firstIndex(of: "#")!.utf16Offset(in: $0) }).count, 1)
    }

    func testListValuesFromFileEnvironmentAndCommandLine() throws {
        let path = try writeYAML("optimizer:\n  betas: [0.8, 0.9]\nevaluators: [accuracy]\ncallbacks:\n  - jsonl_log\n")
        var resolved = try resolve(file: path)
        XCTAssertEqual(resolved.config.optimizer.parameters["betas"], .list([0.8, 0.9]))
        XCTAssertEqual(resolved.config.evaluators.map(\.name), ["accuracy"])
        XCTAssertEqual(resolved.config.callbacks.map(\.name), ["jsonl_log"])

        resolved = try resolve(file: path, env: ["AUTOGLM_OPTIMIZER_BETAS": "0.85, 0.95",
                                                 "AUTOGLM_EVALUATORS": "perplexity,accuracy",
                                                 "AUTOGLM_PLUGINS_PATHS": "/a,/b"])
        XCTAssertEqual(resolved.config.optimizer.parameters["betas"], .list([0.85, 0.95]))
        XCTAssertEqual(resolved.config.evaluators.map(\.name), ["perplexity", "accuracy"])
        XCTAssertEqual(resolved.config.plugins.paths, ["/a", "/b"])
        XCTAssertEqual(resolved.entry(forKey: "evaluators")?.value, "[perplexity, accuracy]")
        XCTAssertEqual(resolved.entry(forKey: "evaluators")?.source, .environment("AUTOGLM_EVALUATORS"))

        resolved = try resolve(file: path, env: ["AUTOGLM_OPTIMIZER_BETAS": "0.85,0.95"],
                               set: ["optimizer.betas=0.9,0.95", "evaluators=perplexity", "callbacks="])
        XCTAssertEqual(resolved.config.optimizer.parameters["betas"], .list([0.9, 0.95]))
        XCTAssertEqual(resolved.config.evaluators.map(\.name), ["perplexity"])
        XCTAssertEqual(resolved.config.callbacks, [])
        XCTAssertEqual(resolved.entry(forKey: "optimizer.betas")?.source, .commandLine("optimizer.betas=0.9,0.95"))
        XCTAssertEqual(resolved.entry(forKey: "callbacks")?.value, "[]")

        resolved = try resolve(set: ["optimizer.betas=[0.7, 0.8]", "evaluators=[]"])
        XCTAssertEqual(resolved.config.optimizer.parameters["betas"], .list([0.7, 0.8]))
        XCTAssertEqual(resolved.config.evaluators, [])
    }

    func testComponentParametersDefaultFromSchema() throws {
        let resolved = try resolve(set: ["optimizer.name=sgd", "optimizer.momentum=0.9", "callbacks=early_stopping,jsonl_log"])
        XCTAssertEqual(resolved.config.optimizer.parameters, ["momentum": .number(0.9), "nesterov": .number(0)])
        XCTAssertEqual(resolved.config.callbacks[0].parameters, ["patience": .number(3), "metric": .string("val_loss")])
        XCTAssertEqual(resolved.config.callbacks[1].parameters, ["path": .string("log.jsonl")])
        XCTAssertEqual(resolved.entry(forKey: "optimizer.nesterov")?.value, "false")
        XCTAssertEqual(resolved.entry(forKey: "optimizer.nesterov")?.source, .componentDefault(kind: .optimizer, name: "sgd"))
        XCTAssertEqual(resolved.entry(forKey: "optimizer.momentum")?.source, .commandLine("optimizer.momentum=0.9"))
        XCTAssertNil(resolved.entry(forKey: "optimizer.betas"), "adamw's keys are gone with sgd")
        XCTAssertEqual(resolved.entries.filter { $0.key.hasPrefix("params.") }.map(\.key),
                       ["params.early_stopping.patience", "params.early_stopping.metric", "params.jsonl_log.path"])
    }

    func testPluginPathsResolvedInPhaseOne() throws {
        let path = try writeYAML("plugins:\n  paths: [/opt/a]\n")
        var layers = try ConfigLoader.load(file: path, environment: [:], overrides: [])
        XCTAssertEqual(layers.pluginPaths, ["/opt/a"])
        XCTAssertEqual(layers.pluginPathsSource, .file(path))
        layers = try ConfigLoader.load(file: path, environment: ["AUTOGLM_PLUGINS_PATHS": "/e1,/e2"], overrides: [])
        XCTAssertEqual(layers.pluginPaths, ["/e1", "/e2"])
        layers = try ConfigLoader.load(file: path, environment: [:], overrides: ["plugins.paths=/s"])
        XCTAssertEqual(layers.pluginPaths, ["/s"])
        XCTAssertEqual(layers.pluginPathsSource, .commandLine("plugins.paths=/s"))
        layers = try ConfigLoader.load(file: nil, environment: [:], overrides: [])
        XCTAssertEqual(layers.pluginPaths, [])
        XCTAssertEqual(layers.pluginPathsSource, .default)
    }

    func testEmptyFileAndNullSectionsAreAccepted() throws {
        var path = try writeYAML("# nothing here\n", name: "empty.yaml")
        XCTAssertEqual(try resolve(file: path).config.train.steps, 2000)
        path = try writeYAML("params:\ncallbacks:\ntrain:\n  steps: 3\n", name: "nulls.yaml")
        let config = try resolve(file: path, set: ["evaluators=perplexity"]).config
        XCTAssertEqual(config.train.steps, 3)
        XCTAssertEqual(config.callbacks, [])
    }

    func testJSONObjectIsSortedNestedAndTyped() throws {
        let resolved = try resolve(set: ["train.steps=10", "callbacks=jsonl_log"])
        let json = resolved.jsonObject
        XCTAssertFalse(json.contains("\n"))
        XCTAssertTrue(json.hasPrefix(#"{"attention":{"block":32,"name":"flash"},"callbacks":["jsonl_log"],"checkpoint":{"best_metric":"val/loss","best_mode":"min","every":0,"keep_last":3},"data":{"path":"/usr/share/games/fortunes","val_fraction":0.1},"distributed":{"bucket_mb":25},"evaluators":["perplexity"],"model":{"block_size":64,"n_embd":128,"n_head":4,"n_layer":4,"position_embedding":true},"optimizer":{"betas":[0.9,0.99],"eps":1e-08,"lr":0.001,"name":"adamw","weight_decay":0.1},"params":{"jsonl_log":{"path":"log.jsonl"}},"plugins":{"paths":[]},"run":{"dir":"runs/latest","isa":"auto"},"train":{"accumulation_schedule":"constant","accumulation_steps":1,"activation_checkpointing":"none","#), json)
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let train = object?["train"] as? [String: Any]
        XCTAssertEqual(train?["steps"] as? Int, 10)
        XCTAssertEqual(train?["lr_schedule"] as? String, "cosine")
    }

    func testValidateIsUsableForPluginDefaults() throws {
        let spec = ParameterSpec(name: "betas", kind: .floatList, doc: "", defaultValue: .list([0.9, 0.99]),
                                 min: 0, max: 1, listLength: 2)
        XCTAssertEqual(try spec.validate(.list([0.9, 0.99]), key: "optimizer.betas", origin: nil), .list([0.9, 0.99]))
        XCTAssertThrowsError(try spec.validate(.list([0.9]), key: "optimizer.betas", origin: "plugin adamw")) {
            XCTAssertEqual("\($0)", "plugin adamw: optimizer.betas: expected a list of 2 numbers, got 1")
        }
        XCTAssertEqual(try spec.validate(RawConfigValue.scalar("0.5,0.6"), key: "optimizer.betas", origin: nil), .list([0.5, 0.6]))
        let k = ParameterSpec(name: "k", kind: .int, doc: "", defaultValue: .number(1.5), min: 1)
        XCTAssertThrowsError(try k.validate(k.defaultValue, key: "params.x.k", origin: nil)) {
            XCTAssertEqual("\($0)", "params.x.k: expected an integer, got 1.5")
        }
    }
}
