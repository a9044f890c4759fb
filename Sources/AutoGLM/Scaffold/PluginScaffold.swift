import Foundation

/// A new plugin folder (`autoglm plugins new NAME --kind KIND`): a C source whose vtable is
/// filled in by a small working example of the kind, a Makefile (`make`, `make check`, `make
/// try`), a config that trains with the component (`try.yaml`) and a README. It builds and
/// passes `autoglm plugins validate` unchanged.
public struct PluginScaffold: Sendable {
    /// The component's name (also the library's and the files'), [a-z][a-z0-9_]{0,63}.
    public let name: String
    /// Which kind of component.
    public let kind: ComponentKind
    /// The directory holding `autoglm/plugin.h`, used when `pkg-config autoglm` is not
    /// available (nil: the Makefile then needs pkg-config or `AUTOGLM_INCLUDE=...`).
    public let includeDirectory: String?
    /// The `autoglm` executable that `make check` and `make try` run when it still exists
    /// (else `autoglm` from PATH).
    public let executable: String?

    /// A scaffold of `kind` named `name`.
    /// - Throws: `ScaffoldError` for a name that is not a valid component name.
    public init(name: String, kind: ComponentKind, includeDirectory: String?, executable: String?) throws {
        guard DescriptorValidation.isIdentifier(name) else {
            throw ScaffoldError(message: "'\(name)' is not a valid component name: use 1-64 characters of a-z, 0-9 and _, starting with a letter (e.g. my_\(kind.rawValue))")
        }
        self.name = name
        self.kind = kind
        self.includeDirectory = includeDirectory
        self.executable = executable
    }

    /// The files, by name within the folder.
    public var files: [(name: String, contents: String)] {
        [(name + ".c", source), ("Makefile", ScaffoldMakefile.text(self)), ("try.yaml", ScaffoldConfig.text(self)),
         ("README.md", ScaffoldReadme.text(self))]
    }

    /// The C source of the example of the kind.
    var source: String {
        let template: String
        switch kind {
        case .attention: template = ScaffoldSources.attention
        case .optimizer: template = ScaffoldSources.optimizer
        case .evaluator: template = ScaffoldSources.evaluator
        case .callback: template = ScaffoldSources.callback
        }
        return template.replacingOccurrences(of: "@NAME@", with: name)
    }

    /// Writes the files into `directory`, which must not exist yet or be empty; returns their paths.
    /// - Throws: `ScaffoldError` if the directory holds files, or a file cannot be written.
    @discardableResult
    public func write(into directory: URL) throws -> [URL] {
        let fm = FileManager.default
        if let existing = try? fm.contentsOfDirectory(atPath: directory.path), !existing.isEmpty {
            throw ScaffoldError(message: "\(directory.path) exists and is not empty: choose another --dir, or remove it")
        }
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
            return try files.map { file in
                let url = directory.appendingPathComponent(file.name)
                try Data(file.contents.utf8).write(to: url, options: .atomic)
                return url
            }
        } catch {
            throw ScaffoldError(message: "cannot write the plugin folder \(directory.path): \(error.localizedDescription)")
        }
    }

    /// The include directory of the AutoGLM that `executable` belongs to: the first ancestor
    /// directory D of the executable (symbolic links resolved) with `D/include/autoglm/plugin.h`
    /// — the repository for a `swift build` executable (`REPO/.build/release/autoglm`), the
    /// prefix for an installed one (`PREFIX/bin/autoglm`, `PREFIX/include/autoglm/`).
    public static func includeDirectory(forExecutable executable: String) -> String? {
        var dir = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        while true {
            let include = dir.appendingPathComponent("include")
            if FileManager.default.fileExists(atPath: include.appendingPathComponent("autoglm/plugin.h").path) {
                return include.path
            }
            let parent = dir.deletingLastPathComponent()
            guard parent.path != dir.path else { return nil }  // the root was the last to check
            dir = parent
        }
    }
}

/// A plugin folder that could not be made.
public struct ScaffoldError: Error, CustomStringConvertible {
    /// What went wrong and what to do.
    public let message: String
    public var description: String { message }
}
