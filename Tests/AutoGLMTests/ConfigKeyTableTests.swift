import AutoGLM
import Foundation
import XCTest

/// The key table is the one definition of every host key: a key declared once works in every
/// layer, in `config show`, in the JSON record, in the environment, in the README reference and
/// in `autoglm init`'s starter config, with no other code.
final class ConfigKeyTableTests: ConfigTestCase {
    /// A key declared only here, in a section of the host table and with exclusive bounds.
    private let ratio = HostKey<Double>.number("train.demo_ratio", default: 0.25, above: 0, max: 1,
                                                doc: "a key declared only by this test")
    /// A key of a section of its own.
    private let label = HostKey<String>.text("extra.label", default: "none", doc: "a section declared only by this test")

    private var schema: ConfigSchema { ConfigSchema.host.adding([ratio, label]) }

    private func resolveExtended(file: String? = nil, env: [String: String] = [:], set: [String] = []) throws -> ResolvedConfig {
        try ConfigLoader.load(file: file, environment: env, overrides: set, schema: schema).resolve(schemas: FakeSchemas.standard)
    }

    /// `config` as a file in `directory` would give it: a relative run.dir written in a config
    /// file resolves against the file's directory (main's 2944200).
    private static func relativeTo(_ directory: URL, _ config: RunConfig) throws -> RunConfig {
        var config = config
        XCTAssertFalse(config.run.dir.hasPrefix("/"), "the default run.dir is relative")
        config.run.dir = directory.appendingPathComponent(config.run.dir).path
        return config
    }

    func testADeclaredKeyIsParsedValidatedShownAndSettableFromEveryLayer() throws {
        // Default, shown with its source and in the JSON record.
        var resolved = try resolveExtended()
        XCTAssertEqual(resolved.config[ratio], 0.25)
        XCTAssertEqual(resolved.config[label], "none")
        XCTAssertEqual(resolved.entry(forKey: "train.demo_ratio")?.source, .default)
        XCTAssertTrue(resolved.render().contains { $0.hasPrefix("train.demo_ratio ") && $0.hasSuffix("# default") })
        let object = try JSONSerialization.jsonObject(with: Data(resolved.jsonObject.utf8)) as? [String: Any]
        XCTAssertEqual((object?["train"] as? [String: Any])?["demo_ratio"] as? Double, 0.25)
        XCTAssertEqual((object?["extra"] as? [String: Any])?["label"] as? String, "none")
        // Placed with its section in `config show`.
        let keys = resolved.entries.map(\.key)
        XCTAssertEqual(keys.firstIndex(of: "train.demo_ratio"), keys.firstIndex(of: "train.max_skipped_steps").map { $0 + 1 })

        // File < environment < --set, each named as the source.
        let path = try writeYAML("train:\n  demo_ratio: 0.5\nextra:\n  label: from-file\n")
        resolved = try resolveExtended(file: path)
        XCTAssertEqual(resolved.config[ratio], 0.5)
        XCTAssertEqual(resolved.config[label], "from-file")
        XCTAssertEqual(resolved.entry(forKey: "train.demo_ratio")?.source, .file(path))
        resolved = try resolveExtended(file: path, env: ["AUTOGLM_TRAIN_DEMO_RATIO": "0.75", "AUTOGLM_EXTRA_LABEL": "env"])
        XCTAssertEqual(resolved.config[ratio], 0.75)
        XCTAssertEqual(resolved.config[label], "env")
        XCTAssertEqual(resolved.entry(forKey: "train.demo_ratio")?.source, .environment("AUTOGLM_TRAIN_DEMO_RATIO"))
        resolved = try resolveExtended(file: path, env: ["AUTOGLM_TRAIN_DEMO_RATIO": "0.75"], set: ["train.demo_ratio=1"])
        XCTAssertEqual(resolved.config[ratio], 1)
        XCTAssertEqual(resolved.entry(forKey: "train.demo_ratio")?.source, .commandLine("train.demo_ratio=1"))

        // Validated against its declaration: type, exclusive lower bound, inclusive upper bound.
        func error(_ set: [String]) -> String {
            do { _ = try resolveExtended(set: set); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(error(["train.demo_ratio=x"]), #"--set train.demo_ratio=x: expected a number, got "x""#)
        XCTAssertEqual(error(["train.demo_ratio=0"]), "--set train.demo_ratio=0: train.demo_ratio must be in (0, 1], got 0")
        XCTAssertEqual(error(["train.demo_ratio=1.5"]), "--set train.demo_ratio=1.5: train.demo_ratio must be in (0, 1], got 1.5")
        // A typo gets a hint that includes the new key; without the declaration it is unknown.
        XCTAssertEqual(error(["train.demo_ratoi=0.5"]),
                       "--set train.demo_ratoi=0.5: unknown key (did you mean 'train.demo_ratio'?)")
        XCTAssertThrowsError(try resolve(set: ["train.demo_ratio=0.5"])) {
            XCTAssertTrue("\($0)".hasPrefix("--set train.demo_ratio=0.5: unknown key"), "\($0)")
        }

        // Listed in the generated README reference and in the starter config, which loads back
        // to the defaults.
        let reference = ConfigReference.markdown(schema)
        XCTAssertTrue(reference.contains("| `train.demo_ratio` | `0.25` | (0, 1] | a key declared only by this test |"), reference)
        XCTAssertTrue(reference.contains("| `extra.label` | `none` | any text | a section declared only by this test |"))
        let starter = ConfigReference.starterYAML(schema)
        XCTAssertTrue(starter.contains("  # a key declared only by this test ((0, 1])\n  demo_ratio: 0.25\n"), starter)
        XCTAssertTrue(starter.contains("\nextra:\n  # a section declared only by this test (any text)\n  label: none\n"), starter)
        let starterPath = try writeYAML(starter, name: "starter.yaml")
        XCTAssertEqual(try resolveExtended(file: starterPath).config, try Self.relativeTo(directory, try resolveExtended().config))
    }

    func testTheREADMEReferenceIsTheGeneratedOne() throws {
        let readme = try String(contentsOf: PluginBuilder.repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let (begin, end) = ConfigReference.markers
        let start = try XCTUnwrap(readme.range(of: begin + "\n"), "README.md lacks the config-reference markers")
        let stop = try XCTUnwrap(readme.range(of: "\n" + end, range: start.upperBound..<readme.endIndex))
        XCTAssertEqual(String(readme[start.upperBound..<stop.lowerBound]), ConfigReference.markdown(),
                       "README.md's config reference is out of date: run `make readme`")
    }

    func testTheStarterConfigOfTheHostTableLoadsBackToTheDefaults() throws {
        let registry = TrainingTests.registry
        let text = ConfigReference.starterYAML(components: registry)
        let path = try writeYAML(text, name: "autoglm.yaml")
        let fromFile = try ConfigLoader.load(file: path, environment: [:], overrides: []).resolve(schemas: registry)
        let defaults = try ConfigLoader.load(file: nil, environment: [:], overrides: []).resolve(schemas: registry)
        XCTAssertEqual(fromFile.config, try Self.relativeTo(directory, defaults.config))
        // Every key and every parameter of the default components is written, each after a comment.
        for entry in defaults.entries {
            let name = String(entry.key.split(separator: ".").last!)
            XCTAssertTrue(text.contains("\n\(entry.key.contains(".") ? "  " : "")\(name): "), "\(entry.key) missing:\n\(text)")
        }
        XCTAssertTrue(fromFile.entries.allSatisfy { $0.source == .file(path) }, "every value comes from the file")
    }

    func testEveryTableKeyIsNamedForItsProperty() {
        // `config.train.warmupSteps` reads `train.warmup_steps`: the Swift name is the key's last
        // component in camelCase (so a renamed key cannot silently keep its old property).
        for section in Mirror(reflecting: HostKeys.table).children {
            for property in Mirror(reflecting: section.value).children {
                guard let key = property.value as? any AnyHostKey, let label = property.label else { continue }
                XCTAssertEqual(ConfigEnvironment.variableName(forKey: String(key.name.split(separator: ".").last!)),
                               ConfigEnvironment.variableName(forKey: label), key.name)
                if key.name.contains(".") { XCTAssertEqual(String(key.name.split(separator: ".")[0]), section.label, key.name) }
            }
        }
        XCTAssertEqual(ConfigSchema.host.keys.count, 39)
    }

    func testOnlyVariablesOfTheKeySchemeAreRead() throws {
        // A build switch is not a config key; the plugin path is handled elsewhere.
        XCTAssertNoThrow(try resolve(env: ["AUTOGLM_PORTABLE": "1", "AUTOGLM_PLUGIN_PATH": "/p", "AUTOGLM_ISA_HINT": "x"]))
        // A near miss outside the scheme still gets its "did you mean".
        XCTAssertEqual(errorText(env: ["AUTOGLM_TRIAN_STEPS": "3"]),
                       "env AUTOGLM_TRIAN_STEPS: unknown variable: no config key maps to it (did you mean 'AUTOGLM_TRAIN_STEPS'?)")
        XCTAssertEqual(errorText(env: ["AUTOGLM_EVALUATOR": "perplexity"]),
                       "env AUTOGLM_EVALUATOR: unknown variable: no config key maps to it (did you mean 'AUTOGLM_EVALUATORS'?)")
        // Inside the scheme, an unknown variable is an error with the hint.
        XCTAssertEqual(errorText(env: ["AUTOGLM_TRAIN_STPES": "3"]),
                       "env AUTOGLM_TRAIN_STPES: unknown variable: no config key maps to it (did you mean 'AUTOGLM_TRAIN_STEPS'?)")
    }

    func testACodeBuiltConfigIsValidatedLikeAFile() throws {
        var config = RunConfig()
        config.train.steps = 0
        XCTAssertThrowsError(try Session(config: config, registry: TrainingTests.registry, data: .text(TrainingTests.corpus))) {
            XCTAssertEqual("\($0)", "train.steps must be >= 1, got 0")
        }
        config = RunConfig()
        config.optimizer = ComponentSelection(kind: .optimizer, name: "adamw", parameters: ["betaz": .list([0.9, 0.9])])
        XCTAssertThrowsError(try Session(config: config, registry: TrainingTests.registry, data: .text(TrainingTests.corpus))) {
            XCTAssertEqual("\($0)", "optimizer.betaz: unknown key for optimizer 'adamw' (did you mean 'betas'?)")
        }
        config = RunConfig()
        config.attention = ComponentSelection(kind: .attention, name: "flsh")
        XCTAssertThrowsError(try Session(config: config, registry: TrainingTests.registry, data: .text(TrainingTests.corpus))) {
            XCTAssertTrue("\($0)".hasPrefix("attention.name: no attention component named 'flsh' (did you mean 'flash'?)"), "\($0)")
        }
    }
}
