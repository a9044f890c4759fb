import AutoGLM
import CAutoGLM
import Foundation

// The library-wide functions of autoglm.h (documented there): versions, errors, the host API.

/// The library's release as a C string for the life of the process (immutable).
nonisolated(unsafe) private let versionString: UnsafePointer<CChar> = UnsafePointer(strdup(HostInfo.version)!)

/// aglm_api_version.
@c(aglm_api_version) public func aglmAPIVersion() -> UInt32 { APIVersion.packed }

/// aglm_version_string.
@c(aglm_version_string) public func aglmVersionString() -> UnsafePointer<CChar> { versionString }

/// aglm_last_error.
@c(aglm_last_error) public func aglmLastError() -> UnsafePointer<CChar> { LastError.current }

/// aglm_status_name.
@c(aglm_status_name) public func aglmStatusName(_ status: aglm_status) -> UnsafePointer<CChar> { StatusNames.name(status) }

/// aglm_host_api_table.
@c(aglm_host_api_table) public func aglmHostAPITable() -> UnsafePointer<aglm_host_api> { HostAPITable.shared }
