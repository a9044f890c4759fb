import CAutoGLM
import Foundation

/// Opens one shared object, finds and checks its entry point, and runs its init.
enum LibraryLoader {
    /// Loads `path`; returns what it registered or throws a reason meant for the user.
    static func load(path: String) throws -> LibraryRegistration {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw DescriptorError(message: "cannot be loaded by dlopen: \(why) (is it a shared library built for this machine? build it with `cc -shared -fPIC`)")
        }
        // The library is never dlclose'd: component code and static data must stay mapped.
        guard let symbol = dlsym(handle, AGLM_ENTRY_SYMBOL) else {
            for major in [0] + Array(2...16) {
                if dlsym(handle, "aglm_plugin_entry_v\(major)") != nil {
                    throw DescriptorError(message: "built for ABI \(major), host speaks \(HostAPI.abiMajor): \(ABINegotiation.rebuildHint), or use an autoglm that speaks ABI \(major)")
                }
            }
            throw DescriptorError(message: "not an AutoGLM plugin: it does not export \(AGLM_ENTRY_SYMBOL) (define it with AGLM_PLUGIN_ENTRY from autoglm/plugin.h and make sure it is not static)")
        }
        let entryFn = unsafeBitCast(symbol, to: aglm_plugin_entry_fn.self)
        guard let entry = entryFn() else { throw DescriptorError(message: "\(AGLM_ENTRY_SYMBOL) returned NULL") }
        let e = entry.pointee
        let minSize = MemoryLayout<aglm_plugin_entry>.size
        guard e.struct_size >= minSize else {
            throw DescriptorError(message: "aglm_plugin_entry.struct_size is \(e.struct_size), smaller than ABI 1.0's \(minSize): set it to sizeof(aglm_plugin_entry)")
        }
        if let refusal = ABINegotiation.refusal(abiMajor: e.abi_major, abiMinor: e.abi_minor, minHostMinor: e.min_host_minor,
                                                hostMajor: HostAPI.abiMajor, hostMinor: HostAPI.abiMinor) {
            throw DescriptorError(message: refusal)
        }
        guard let initFn = e.`init` else { throw DescriptorError(message: "aglm_plugin_entry.init is NULL") }
        let name = e.name.map { String(cString: $0) } ?? URL(fileURLWithPath: path).lastPathComponent
        let version = e.version.map { String(cString: $0) } ?? ""
        let registration = LibraryRegistration(file: path, abiMinor: e.abi_minor, libraryName: name,
                                               libraryVersion: version)
        let ctx = CallContext(file: path, component: nil, call: "init")
        ctx.registration = registration
        let status = initFn(HostAPI.table, ctx.pointer)
        guard status == AGLM_OK else {
            throw DescriptorError(message: "init failed: \(ctx.errorMessage ?? "no message") (status \(CallContext.statusName(status))); none of its components were registered")
        }
        return registration
    }
}
