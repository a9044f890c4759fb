import Configuration
import Foundation

/// A provider serving one fixed snapshot. Used for the config file: `FileProvider<YAMLSnapshot>`
/// is only constructible asynchronously (it reads the file through an async file system), while
/// the loader is synchronous and has already read the file to report syntax errors with line
/// numbers, so it builds the `YAMLSnapshot` from those bytes and serves it through this.
struct SnapshotProvider: ConfigProvider {
    /// The snapshot.
    let fixed: any ConfigSnapshot

    /// The snapshot's provider name.
    var providerName: String { fixed.providerName }

    /// Looks the key up in the snapshot.
    func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        try fixed.value(forKey: key, type: type)
    }

    /// Same as `value(forKey:type:)`.
    nonisolated(nonsending) func fetchValue(forKey key: AbsoluteConfigKey, type: ConfigType) async throws -> LookupResult {
        try value(forKey: key, type: type)
    }

    /// Emits the one value.
    nonisolated(nonsending) func watchValue<Return: ~Copyable>(
        forKey key: AbsoluteConfigKey, type: ConfigType,
        updatesHandler: nonisolated(nonsending) (_ updates: ConfigUpdatesAsyncSequence<Result<LookupResult, any Error>, Never>) async throws
            -> Return
    ) async throws -> Return {
        try await watchValueFromValue(forKey: key, type: type, updatesHandler: updatesHandler)
    }

    /// The snapshot.
    func snapshot() -> any ConfigSnapshot { fixed }

    /// Emits the one snapshot.
    nonisolated(nonsending) func watchSnapshot<Return: ~Copyable>(
        updatesHandler: nonisolated(nonsending) (_ updates: ConfigUpdatesAsyncSequence<any ConfigSnapshot, Never>) async throws -> Return
    ) async throws -> Return {
        try await watchSnapshotFromSnapshot(updatesHandler: updatesHandler)
    }
}
