import Configuration
import Foundation

/// One layer of the configuration and the swift-configuration provider that serves it.
struct ConfigLayer: Sendable {
    /// Which layer.
    enum Kind: Sendable, Equatable {
        /// `--set key=value` options.
        case commandLine
        /// `AUTOGLM_*` environment variables.
        case environment
        /// The config file at this path.
        case file(String)
    }

    /// Which layer.
    let kind: Kind
    /// Its provider.
    let provider: any ConfigProvider
}
