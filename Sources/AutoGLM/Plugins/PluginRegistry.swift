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

/// All components registered by the plugins loaded so far, by kind and name; plus the files
/// that failed. Loading one bad file never prevents the others from loading.
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
    public func load(directories: [PluginDirectory]) {
        for dir in directories {
            for file in dir.candidateFiles() { load(file: file) }
        }
    }

    /// Loads one library file. Returns true if it loaded; otherwise the reason is in `failures`.
    @discardableResult
    public func load(file: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        let path = URL(fileURLWithPath: file).resolvingSymlinksInPath().path
        if loadedFiles.contains(path) { return true }
        loadedFiles.insert(path)
        do {
            let registration = try LibraryLoader.load(path: path, registry: self)
            for component in registration.components {
                components[component.info.kind, default: [:]][component.info.name] = component
            }
            for function in registration.functions { functionTable[function.info.name] = function }
            libraries.append(PluginLibrary(file: path, name: registration.libraryName, version: registration.libraryVersion,
                                           abi: "1.\(registration.abiMinor)",
                                           components: registration.components.map(\.info.name),
                                           functions: registration.functions.map(\.info.name)))
            for problem in registration.rejected { failures.append(PluginLoadFailure(file: path, reason: problem)) }
            return true
        } catch {
            failures.append(PluginLoadFailure(file: path, reason: "\(error)"))
            return false
        }
    }

    /// The component registered as `name` of `kind`.
    func component(kind: ComponentKind, name: String) -> RegisteredComponent? { components[kind]?[name] }

    /// The component registered as `name` of any kind (names are unique per kind).
    func lookup(name: String) -> [RegisteredComponent] {
        ComponentKind.allCases.compactMap { components[$0]?[name] }
    }

    /// Public info of every registered component, sorted by kind then name.
    public var allComponents: [ComponentInfo] {
        ComponentKind.allCases.flatMap { kind in
            (components[kind] ?? [:]).values.map(\.info).sorted { $0.name < $1.name }
        }
    }

    /// Public info of the components named `name` (one per kind at most).
    public func info(named name: String) -> [ComponentInfo] { lookup(name: name).map(\.info) }

    public func schema(kind: ComponentKind, name: String) -> ComponentSchema? { component(kind: kind, name: name)?.schema }

    public func names(kind: ComponentKind) -> [String] { (components[kind] ?? [:]).keys.sorted() }

    /// The default value of every parameter of `kind`/`name` (empty if it is not registered).
    public func defaultParameters(kind: ComponentKind, name: String) -> [String: ParameterValue] {
        schema(kind: kind, name: name)?.parameters.defaultValues ?? [:]
    }

    /// Where an already registered `name` of `kind` came from (for duplicate messages).
    func existingFile(kind: ComponentKind, name: String) -> String? { components[kind]?[name]?.info.file }
}

/// Collects the components one library registers during its init, checking each.
final class LibraryRegistration {
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
    /// The registry the library is loaded into (for duplicate checks).
    let registry: PluginRegistry

    init(file: String, abiMinor: UInt32, libraryName: String, libraryVersion: String, registry: PluginRegistry) {
        self.file = file; self.abiMinor = abiMinor; self.libraryName = libraryName
        self.libraryVersion = libraryVersion; self.registry = registry
    }

    /// Validates and records one descriptor; throws (and remembers) the reason if refused.
    func register(_ desc: UnsafePointer<aglm_component_desc>?) throws {
        do {
            let component = try DescriptorValidation.component(from: desc, file: file, abiMinor: abiMinor)
            let kind = component.info.kind, name = component.info.name
            if let other = registry.existingFile(kind: kind, name: name) {
                throw DescriptorError(message: "\(kind.rawValue) '\(name)' is already registered by \(other); rename one of them or remove one file from the plugin search path")
            }
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
