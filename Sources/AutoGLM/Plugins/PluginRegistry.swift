import CAutoGLM
import Foundation

/// A plugin library that loaded.
public struct PluginLibrary: Sendable {
    /// Path of the shared object.
    public var file: String
    /// Name the library gives itself.
    public var name: String
    /// Version the library gives itself.
    public var version: String
    /// ABI version it was built against ("1.0").
    public var abi: String
    /// Names of the components it registered.
    public var components: [String]
    /// Names of the functions it registered (ABI 1.2).
    public var functions: [String] = []
}

/// A file on the plugin search path that did not load, with the reason and the fix.
public struct PluginLoadFailure: Sendable, CustomStringConvertible {
    /// Path of the file.
    public var file: String
    /// Why it did not load and what to do about it.
    public var reason: String
    /// "FILE: REASON".
    public var description: String { "\(file): \(reason)" }
}

/// The components one session (or command) can use, by kind and name: those of the plugin
/// libraries it loaded and those a program registered in-process; plus the files that failed.
/// Loading one bad file never prevents the others from loading. Libraries are opened and
/// initialised once per process (`LoadedLibraries`) and shared by every registry that loads
/// them; each registry decides on its own which names it accepts.
public final class PluginRegistry: ComponentSchemaSource, @unchecked Sendable {
    /// Libraries that loaded, in load order.
    public private(set) var libraries: [PluginLibrary] = []
    /// Files that failed, in load order.
    public private(set) var failures: [PluginLoadFailure] = []
    private var components: [ComponentKind: [String: RegisteredComponent]] = [:]
    /// Functions by name (see PluginRegistry+Functions.swift).
    var functionTable: [String: RegisteredFunction] = [:]
    private var loadedFiles = Set<String>()
    /// Guards loading and registration.
    let lock = NSLock()

    /// An empty registry.
    public init() {}

    /// Loads every plugin found in `directories` (in order; see `PluginSearchPath`).
    /// A folder that does not exist is reported in `failures` (except the bundled one, which an
    /// embedding program may not ship), as is a scanned folder others can write (`PluginTrust`).
    public func load(directories: [PluginDirectory]) {
        for dir in directories {
            guard let contents = dir.contents() else {
                if dir.origin != .bundled {
                    lock.withLock {
                        failures.append(PluginLoadFailure(file: dir.path, reason: "no such file or folder (given by \(dir.origin.rawValue)); check the path"))
                    }
                }
                continue
            }
            for file in contents.files { load(file: file, scanned: contents.isFolder) }
        }
    }

    /// Loads one library file. Returns true if it loaded; otherwise the reason is in `failures`.
    /// A component whose name this registry already has is refused (reported in `failures`,
    /// naming both files) while the library's other components are accepted.
    /// Files others can write, and files their folder's `plugins.lock` does not allow, are refused
    /// (`PluginTrust`, `PluginLock`).
    @discardableResult
    public func load(file: String) -> Bool { load(file: file, scanned: false) }

    /// Loads one library file found by scanning a folder (`scanned`) or named directly.
    @discardableResult
    private func load(file: String, scanned: Bool) -> Bool {
        lock.lock(); defer { lock.unlock() }
        let path = URL(fileURLWithPath: file).resolvingSymlinksInPath().path
        if loadedFiles.contains(path) { return true }
        loadedFiles.insert(path)
        if let refusal = PluginTrust.problem(file: file, scanned: scanned) ?? PluginLock.problem(file: file) {
            failures.append(PluginLoadFailure(file: path, reason: refusal))
            return false
        }
        switch LoadedLibraries.load(path: path) {
        case .failure(let error):
            failures.append(PluginLoadFailure(file: path, reason: "\(error)"))
            return false
        case .success(let library):
            var accepted: [String] = []
            for component in library.components {
                do {
                    try add(component)
                    accepted.append(component.info.name)
                } catch {
                    failures.append(PluginLoadFailure(file: path, reason: "\(error)"))
                }
            }
            var functions: [String] = []
            for function in library.functions {
                if let other = functionTable[function.info.name] {
                    failures.append(PluginLoadFailure(file: path, reason: "function '\(function.info.name)' is already registered by \(other.info.file); rename one of them or remove one file from the plugin search path"))
                } else {
                    functionTable[function.info.name] = function
                    functions.append(function.info.name)
                }
            }
            libraries.append(PluginLibrary(file: path, name: library.libraryName, version: library.libraryVersion,
                                           abi: "1.\(library.abiMinor)", components: accepted, functions: functions))
            for problem in library.rejected { failures.append(PluginLoadFailure(file: path, reason: problem)) }
            return true
        }
    }

    /// Registers a component described by a C descriptor that lives in this process (a program
    /// embedding AutoGLM), exactly as a plugin's `register_component` would; `owner` names it in
    /// listings and messages (e.g. "in-process (train.c)").
    /// - Throws: `DescriptorError` for a malformed descriptor or a name this registry already has
    ///   (naming both).
    public func register(inProcess desc: UnsafePointer<aglm_component_desc>?, owner: String) throws {
        let component = try DescriptorValidation.component(from: desc, file: owner, abiMinor: HostAPI.abiMinor)
        lock.lock(); defer { lock.unlock() }
        try add(component)
    }

    /// Adds a validated component unless its name is taken (caller holds the lock).
    private func add(_ component: RegisteredComponent) throws {
        let kind = component.info.kind, name = component.info.name
        if let other = components[kind]?[name]?.info.file {
            throw DescriptorError(message: "\(kind.rawValue) '\(name)' is already registered by \(other); rename one of them or remove one file from the plugin search path")
        }
        components[kind, default: [:]][name] = component
    }

    /// The component registered as `name` of `kind`.
    func component(kind: ComponentKind, name: String) -> RegisteredComponent? {
        lock.withLock { components[kind]?[name] }
    }

    /// The components registered as `name` (one per kind at most: names are unique per kind).
    func lookup(name: String) -> [RegisteredComponent] {
        lock.withLock { ComponentKind.allCases.compactMap { components[$0]?[name] } }
    }

    /// Public info of every registered component, sorted by kind then name.
    public var allComponents: [ComponentInfo] {
        lock.withLock {
            ComponentKind.allCases.flatMap { kind in
                (components[kind] ?? [:]).values.map(\.info).sorted { $0.name < $1.name }
            }
        }
    }

    /// Public info of the components named `name` (one per kind at most).
    public func info(named name: String) -> [ComponentInfo] { lookup(name: name).map(\.info) }

    /// The schema of the component registered as `name` of `kind`.
    public func schema(kind: ComponentKind, name: String) -> ComponentSchema? { component(kind: kind, name: name)?.schema }

    /// Names of the registered components of `kind`, sorted.
    public func names(kind: ComponentKind) -> [String] { lock.withLock { (components[kind] ?? [:]).keys.sorted() } }

    /// The default value of every parameter of `kind`/`name` (empty if it is not registered).
    public func defaultParameters(kind: ComponentKind, name: String) -> [String: ParameterValue] {
        schema(kind: kind, name: name)?.parameters.defaultValues ?? [:]
    }
}

/// The plugin libraries this process has opened, by resolved path: each is opened and its
/// `init` run once per process (as the ABI promises), whatever number of registries load it.
/// Thread-safe.
enum LoadedLibraries {
    /// The outcome of loading each path so far.
    nonisolated(unsafe) private static var byPath: [String: Result<LibraryRegistration, Error>] = [:]
    /// Guards `byPath` and serialises library initialisation.
    private static let lock = NSLock()

    /// The registration of the library at `path` (resolved), loading it on first use; a file
    /// outside the bundled folder is first loaded in a child process (`PluginProbe`), so one
    /// that crashes or hangs in its init is reported instead of taking this process down.
    static func load(path: String) -> Result<LibraryRegistration, Error> {
        lock.withLock {
            if let known = byPath[path] { return known }
            let result: Result<LibraryRegistration, Error>
            if let problem = PluginProbe.problem(loading: path) {
                result = .failure(DescriptorError(message: problem))
            } else {
                result = Result { try LibraryLoader.load(path: path) }
            }
            byPath[path] = result
            return result
        }
    }
}

/// Collects the components one library registers during its init, checking each.
final class LibraryRegistration: @unchecked Sendable {
    /// The library file.
    let file: String
    /// ABI minor the library was built against.
    let abiMinor: UInt32
    /// Its self-declared name and version.
    let libraryName: String, libraryVersion: String
    /// Components accepted so far.
    private(set) var components: [RegisteredComponent] = []
    /// Functions accepted so far (see PluginRegistry+Functions.swift).
    var functions: [RegisteredFunction] = []
    /// Registrations refused (reported even when init goes on to succeed).
    var rejected: [String] = []

    init(file: String, abiMinor: UInt32, libraryName: String, libraryVersion: String) {
        self.file = file; self.abiMinor = abiMinor; self.libraryName = libraryName
        self.libraryVersion = libraryVersion
    }

    /// Validates and records one descriptor; throws (and remembers) the reason if refused.
    func register(_ desc: UnsafePointer<aglm_component_desc>?) throws {
        do {
            let component = try DescriptorValidation.component(from: desc, file: file, abiMinor: abiMinor)
            let kind = component.info.kind, name = component.info.name
            if components.contains(where: { $0.info.kind == kind && $0.info.name == name }) {
                throw DescriptorError(message: "\(kind.rawValue) '\(name)' is registered twice by this library")
            }
            components.append(component)
        } catch {
            rejected.append("\(error)")
            throw error
        }
    }
}
