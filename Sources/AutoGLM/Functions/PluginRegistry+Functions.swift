import CAutoGLM
import Foundation

/// Functions by prototype in the registry, beside the components: registered by plugins
/// (`host->register_function`, ABI 1.2), in-process from a function pointer, or bound from any
/// shared library's symbol. One namespace for all three; the first registration of a name wins
/// and a later one is refused naming both origins.
extension PluginRegistry {
    /// Public info of every registered function, sorted by name.
    public var allFunctions: [FunctionInfo] {
        lock.lock(); defer { lock.unlock() }
        return functionTable.values.map(\.info).sorted { $0.name < $1.name }
    }

    /// The function registered as `name`, if any.
    public func function(named name: String) -> RegisteredFunction? {
        lock.lock(); defer { lock.unlock() }
        return functionTable[name]
    }

    /// Registers the function at `address` under the name in `prototype` (for embedders: the C
    /// embedding API calls this). `origin` is shown where a plugin's file would be. The
    /// function must stay valid for the life of the process and tolerate calls from several
    /// threads at once. Throws `FunctionRegistrationError` for a bad prototype or a taken name.
    @discardableResult
    public func registerFunction(prototype: String, address: UnsafeRawPointer, doc: String = "",
                                 exampleArguments: String = "", origin: String = "in-process") throws -> RegisteredFunction {
        let function = try RegisteredFunction(prototype: prototype, address: address, doc: doc,
                                              exampleArguments: exampleArguments, file: origin, abi: nil)
        lock.lock(); defer { lock.unlock() }
        if let other = functionTable[function.info.name] {
            throw FunctionRegistrationError("function '\(function.info.name)' from \(origin) is already registered by \(other.info.file); rename one of them")
        }
        functionTable[function.info.name] = function
        return function
    }

    /// Binds `symbol` (default: the prototype's function name) of the shared library `library`
    /// (a path, or a name the dynamic loader finds) and registers it under the prototype's name.
    /// The library is opened with `dlopen(RTLD_NOW | RTLD_LOCAL)` and never closed. A library
    /// that does not open or lacks the symbol is refused with `dlerror`'s text and the fix.
    @discardableResult
    public func bindFunction(library: String, symbol: String? = nil, prototype: String, doc: String = "",
                             exampleArguments: String = "") throws -> RegisteredFunction {
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
            throw FunctionRegistrationError("cannot open library '\(library)': \(Self.dlerrorText()): give the path of a shared library (e.g. /usr/lib/x86_64-linux-gnu/libm.so.6) or a name the dynamic loader finds (`ldconfig -p` lists them; LD_LIBRARY_PATH adds directories)")
        }
        let name: String
        if let symbol { name = symbol } else {
            do { name = try CPrototype.parse(prototype).name } catch { throw FunctionRegistrationError("prototype '\(prototype)': \(error)") }
        }
        _ = dlerror()  // clear a stale error
        guard let address = dlsym(handle, name) else {
            throw FunctionRegistrationError("library '\(library)' has no symbol '\(name)': \(Self.dlerrorText()): check its exported names with `nm -D --defined-only \(library)` (a C++ function needs extern \"C\"; a static one is not exported)")
        }
        return try registerFunction(prototype: prototype, address: address, doc: doc, exampleArguments: exampleArguments,
                                    origin: library)
    }

    /// The text of the last dlopen/dlsym failure.
    private static func dlerrorText() -> String { dlerror().map { String(cString: $0) } ?? "unknown error" }
}

extension LibraryRegistration {
    /// Validates and records one `host->register_function` call during the library's init;
    /// throws (and remembers) the reason if refused.
    func registerFunction(prototype: UnsafePointer<CChar>?, address: UnsafeRawPointer?,
                          info: UnsafePointer<aglm_function_info>?) throws {
        do {
            guard let prototype else { throw FunctionRegistrationError("prototype is NULL") }
            let text = String(cString: prototype)
            guard let address else { throw FunctionRegistrationError("fn is NULL for prototype '\(text)'") }
            var doc = "", example = ""
            if let info {
                let size = info.pointee.struct_size
                guard size >= MemoryLayout<aglm_function_info>.size else {
                    throw FunctionRegistrationError("aglm_function_info.struct_size is \(size), smaller than ABI 1.2's \(MemoryLayout<aglm_function_info>.size): set it to sizeof(aglm_function_info)")
                }
                doc = info.pointee.doc.map { String(cString: $0) } ?? ""
                example = info.pointee.example_args.map { String(cString: $0) } ?? ""
            }
            let function = try RegisteredFunction(prototype: text, address: address, doc: doc, exampleArguments: example,
                                                  file: file, abi: "1.\(abiMinor)")
            let name = function.info.name
            if functions.contains(where: { $0.info.name == name }) {
                throw FunctionRegistrationError("function '\(name)' is registered twice by this library")
            }
            functions.append(function)
        } catch {
            rejected.append("\(error)")
            throw error
        }
    }
}

extension PluginRegistry {
    /// The function `symbol` of `library` with `prototype`, bound once: a second request for the
    /// same library and prototype (two hooks, a resumed session) gets the first binding.
    func boundFunction(library: String, symbol: String?, prototype: String) throws -> RegisteredFunction {
        let parsed: CPrototype
        do { parsed = try CPrototype.parse(prototype) } catch { throw FunctionRegistrationError("prototype '\(prototype)': \(error)") }
        if let existing = function(named: parsed.name), existing.info.file == library,
           existing.binding.prototype == parsed {
            return existing
        }
        return try bindFunction(library: library, symbol: symbol, prototype: prototype)
    }
}
