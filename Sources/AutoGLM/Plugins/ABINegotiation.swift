import Foundation

/// The version rules the loader applies to a plugin's `aglm_plugin_entry` before calling into
/// it, separate from the loading so that they can be checked against any host version.
public enum ABINegotiation {
    /// Host-side fix-it text shown with every ABI mismatch.
    static let rebuildHint = "rebuild it against this host's include/autoglm/plugin.h"

    /// Why a plugin declaring `abiMajor`, `abiMinor` and `minHostMinor` cannot run on a host
    /// speaking `hostMajor`.`hostMinor`, or nil if it can.
    public static func refusal(abiMajor: UInt32, abiMinor: UInt32, minHostMinor: UInt32,
                               hostMajor: UInt32, hostMinor: UInt32) -> String? {
        if abiMajor != hostMajor {
            return "built for ABI \(abiMajor), host speaks \(hostMajor): \(rebuildHint)"
        }
        if minHostMinor > abiMinor {
            return "inconsistent versions: min_host_minor \(minHostMinor) is newer than the abi_minor \(abiMinor) it was built with"
        }
        if minHostMinor > hostMinor {
            return "needs host ABI \(hostMajor).\(minHostMinor) or newer, host speaks \(hostMajor).\(hostMinor): upgrade autoglm, or rebuild the plugin with min_host_minor <= \(hostMinor)"
        }
        return nil
    }
}
