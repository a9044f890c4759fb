import Configuration
import Foundation

extension ConfigLayers {
    /// The precedence of the layer that supplied a value from `source`: 0 for `--set`, then the
    /// environment, then the file; nil for a source that is no layer (a default).
    func precedence(of source: ConfigSource) -> Int? {
        layers.firstIndex { layer in
            switch (layer.kind, source) {
            case (.commandLine, .commandLine), (.environment, .environment): return true
            case (.file(let a), .file(let b)): return a == b
            default: return false
            }
        }
    }

    /// The component the layer of `source` selects with the key `selecting` (`optimizer.name`):
    /// the value that layer gives it, else the next lower layer's, else the key's default. What
    /// a component key of that layer (`optimizer.betas` in a file) was written for.
    func componentSelected(by selecting: String, asSeenFrom source: ConfigSource) -> String? {
        let components = selecting.split(separator: ".").map(String.init)
        for layer in layers[(precedence(of: source) ?? layers.count)...] {
            if let content = try? layer.provider.value(forKey: AbsoluteConfigKey(components), type: .string).value?.content,
               case .string(let name) = content {
                return name
            }
        }
        if case .string(let name)? = schema.byName[selecting]?.spec.defaultValue { return name }
        return nil
    }
}
