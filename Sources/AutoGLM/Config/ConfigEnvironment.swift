import Foundation

/// How config keys map to environment variables: `AUTOGLM_` + the key's components upper-cased
/// and joined with underscores (`optimizer.lr` → `AUTOGLM_OPTIMIZER_LR`), which is what
/// swift-configuration's `EnvironmentVariablesProvider` looks up for the key prefixed with
/// `autoglm`. That encoder is internal to the library, so it is mirrored here to tell which
/// variable supplied a value and to find variables that match no key.
///
/// Only variables in the key table's scheme are read as config: `AUTOGLM_<SECTION>_…` for a
/// top-level section (`AUTOGLM_TRAIN_STEPS`) or `AUTOGLM_<KEY>` for a top-level key
/// (`AUTOGLM_EVALUATORS`). Any other `AUTOGLM_*` variable (a build switch such as
/// `AUTOGLM_PORTABLE`) is left alone, unless it is a near miss of a config variable
/// (`AUTOGLM_TRIAN_STEPS`), which is reported with its "did you mean".
public enum ConfigEnvironment {
    /// The prefix of every variable the config reads.
    public static let prefix = "AUTOGLM_"

    /// `AUTOGLM_*` variables that are not config keys and are handled elsewhere, so they are
    /// neither read as config nor reported as near misses. Add new ones here.
    public static let ignoredVariables: Set<String> = [
        "AUTOGLM_PLUGIN_PATH",  // the plugin search path (PluginSearchPath)
    ]

    /// The variable for a dotted key (`train.steps` → `AUTOGLM_TRAIN_STEPS`).
    public static func variableName(forKey key: String) -> String {
        variableName(components: ["autoglm"] + key.split(separator: ".").map(String.init))
    }

    /// Mirrors swift-configuration's environment key encoder: camelCase boundaries become `_`,
    /// letters are upper-cased, other characters that are not letters or digits become `_`.
    static func variableName(components: [String]) -> String {
        components.map { component -> String in
            var out = ""
            var previous: Character?
            for ch in component {
                if let p = previous, p.isLowercase, ch.isUppercase { out += "_" }
                out += ch.isLetter || ch.isNumber ? ch.uppercased() : "_"
                previous = ch
            }
            return out
        }.joined(separator: "_")
    }

    /// The `AUTOGLM_*` variables of `environment` that are config variables of `schema`'s
    /// scheme (see the type's comment).
    /// - Throws: `ConfigError` for a variable outside the scheme that is a near miss of one of
    ///   the schema's variables.
    static func configVariables(in environment: [String: String], schema: ConfigSchema) throws -> [String: String] {
        let sectionPrefixes = schema.topLevel.map { variableName(forKey: $0) + "_" }
        let topLevelKeys = Set(schema.topLevelKeys.map { variableName(forKey: $0) })
        let known = schema.keys.map { variableName(forKey: $0.name) }
        var read: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix(prefix) && !ignoredVariables.contains(name) {
            if topLevelKeys.contains(name) || sectionPrefixes.contains(where: name.hasPrefix) {
                read[name] = value
            } else if let near = Suggestion.closest(to: name.dropFirst(prefix.count).description,
                                                    in: known.map { String($0.dropFirst(prefix.count)) }) {
                throw ConfigSource.environment(name).error(
                    "unknown variable: no config key maps to it (did you mean '\(prefix + near)'?)")
            }
        }
        return read
    }
}
