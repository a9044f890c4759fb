import Foundation

/// How config keys map to environment variables: `AUTOGLM_` + the key's components upper-cased
/// and joined with underscores (`optimizer.lr` → `AUTOGLM_OPTIMIZER_LR`), which is what
/// swift-configuration's `EnvironmentVariablesProvider` looks up for the key prefixed with
/// `autoglm`. That encoder is internal to the library, so it is mirrored here to tell which
/// variable supplied a value and to find variables that match no key.
public enum ConfigEnvironment {
    /// The prefix of every variable the config reads.
    public static let prefix = "AUTOGLM_"

    /// `AUTOGLM_*` variables that are not config keys and are handled elsewhere, so they are
    /// neither read as config nor reported as unknown. Add new ones here.
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

    /// The `AUTOGLM_*` variables of `environment` that the config should look at.
    static func relevant(_ environment: [String: String]) -> [String: String] {
        environment.filter { $0.key.hasPrefix(prefix) && !ignoredVariables.contains($0.key) }
    }
}
