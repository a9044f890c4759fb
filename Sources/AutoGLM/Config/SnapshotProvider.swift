import Configuration
import Foundation

/// A provider serving one fixed snapshot. Used for the config file: `FileProvider<YAMLSnapshot>`
/// is only constructible asynchronously (it reads the file through an async file system), while
/// the loader is synchronous and has already read the file to report syntax errors with line
/// numbers, so it builds the `YAMLSnapshot` from those bytes and serves it through this.
struct SnapshotProvider: FixedConfigProvider {
    /// The snapshot.
    let fixed: any ConfigSnapshot

    /// The snapshot's provider name.
    var providerName: String { fixed.providerName }

    /// Looks the key up in the snapshot.
    func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        try fixed.value(forKey: key, type: type)
    }

    /// The snapshot.
    func snapshot() -> any ConfigSnapshot { fixed }
}
