import Configuration
import Foundation

/// Reads raw values through a swift-configuration `ConfigReader` over the layers (highest
/// precedence first) and learns from the access reporter which layer supplied each one.
struct LayeredReader {
    /// Layers, highest precedence first, in the order given to the reader.
    let layers: [ConfigLayer]
    /// `--set` options by key (the last of a key), to quote the option in messages.
    let overrides: [String: Override]
    /// The reader over all layers.
    let reader: ConfigReader
    /// Its access reporter.
    let recorder: ProvenanceRecorder

    /// A reader over `layers`.
    init(layers: [ConfigLayer], overrides: [String: Override]) {
        self.layers = layers
        self.overrides = overrides
        let recorder = ProvenanceRecorder()
        self.recorder = recorder
        self.reader = ConfigReader(providers: layers.map(\.provider), accessReporter: recorder)
    }

    /// The value of a dotted key from the highest layer that has it, with its origin; nil when no
    /// layer has it. `list` reads it as a list (string array) rather than a single string.
    /// - Throws: `ConfigError` when the supplying layer cannot produce the value at all.
    func lookup(_ key: String, list: Bool) throws -> (raw: RawConfigValue, origin: ValueOrigin)? {
        let components = key.split(separator: ".").map(String.init)
        if list {
            _ = reader.stringArray(forKey: ConfigKey(components))
        } else {
            _ = reader.string(forKey: ConfigKey(components))
        }
        guard let event = recorder.event(forKey: key) else { return nil }
        // The reader asks providers in order and stops at the first with a value (or error),
        // reporting one result per provider asked: the result's index is the layer's.
        for (index, result) in event.providerResults.enumerated() where index < layers.count {
            let layer = layers[index]
            switch result.result {
            case .success(let lookup):
                guard let value = lookup.value else { continue }
                return (Self.raw(value.content), origin(of: layer, key: key))
            case .failure(let error):
                // The file holds a list where a single value is wanted, or the reverse: read it
                // in the other shape so validation can say what was there.
                let other = try? layer.provider.value(forKey: AbsoluteConfigKey(components),
                                                      type: list ? .string : .stringArray)
                if let value = other?.value { return (Self.raw(value.content), origin(of: layer, key: key)) }
                throw origin(of: layer, key: key).error(key: key, "cannot read the value: \(error)")
            }
        }
        return nil
    }

    /// The origin of a value of `key` supplied by `layer`.
    func origin(of layer: ConfigLayer, key: String) -> ValueOrigin {
        switch layer.kind {
        case .commandLine: return .commandLine(overrides[key]?.argument ?? key)
        case .environment: return .environment(ConfigEnvironment.variableName(forKey: key))
        case .file(let path): return .file(path)
        case .builtIn: return .builtIn
        }
    }

    /// Provider content as a raw value.
    private static func raw(_ content: ConfigContent) -> RawConfigValue {
        switch content {
        case .string(let s): return .scalar(s)
        case .stringArray(let items): return .list(items)
        case .int(let i): return .scalar(String(i))
        case .double(let d): return .scalar(String(d))
        case .bool(let b): return .scalar(String(b))
        case .intArray(let items): return .list(items.map(String.init))
        case .doubleArray(let items): return .list(items.map { String($0) })
        case .boolArray(let items): return .list(items.map(String.init))
        case .bytes, .byteChunkArray: return .scalar("")
        }
    }
}
