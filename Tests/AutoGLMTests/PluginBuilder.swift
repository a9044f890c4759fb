import AutoGLM
import Foundation
import XCTest

/// Compiles C plugin sources with the system C compiler, the way users build plugins.
enum PluginBuilder {
    /// Root of the repository (found from this file's path).
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The public headers.
    static let includeDir = repoRoot.appendingPathComponent("include").path
    /// The C fixtures of these tests.
    static let fixturesDir = repoRoot.appendingPathComponent("Tests/AutoGLMTests/Fixtures").path

    /// A fresh temporary directory.
    static func temporaryDirectory(_ label: String = "autoglm-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs a command; returns (exit status, combined output).
    @discardableResult
    static func run(_ arguments: [String], in directory: URL? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Compiles `source` (a path) into `directory/name.so` with `cc -shared -fPIC -I include`
    /// and the preprocessor `defines` (e.g. "BAD=1"); fails the test with the compiler's output
    /// if it does not compile.
    @discardableResult
    static func compile(_ source: String, into directory: URL, name: String? = nil, defines: [String] = [],
                        file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let base = name ?? URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent
        let out = directory.appendingPathComponent(base + ".so").path
        let result = try run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-O2",
                              "-I", includeDir] + defines.map { "-D" + $0 } + ["-o", out, source, "-lm"])
        XCTAssertEqual(result.status, 0, "cc failed for \(source):\n\(result.output)", file: file, line: line)
        return out
    }

    /// Compiles a fixture from Tests/AutoGLMTests/Fixtures by file name (into `name`.so, with
    /// `defines`).
    @discardableResult
    static func compileFixture(_ fileName: String, into directory: URL, name: String? = nil, defines: [String] = [],
                               file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try compile((fixturesDir as NSString).appendingPathComponent(fileName), into: directory, name: name,
                    defines: defines, file: file, line: line)
    }

    /// A registry holding only the fixture `fileName` (compiled with `defines`), checking that
    /// it loaded.
    static func fixtureRegistry(_ fileName: String, defines: [String] = [],
                                file: StaticString = #filePath, line: UInt = #line) throws -> PluginRegistry {
        let path = try compileFixture(fileName, into: try temporaryDirectory(), defines: defines, file: file, line: line)
        let registry = PluginRegistry()
        XCTAssertTrue(registry.load(file: path), "\(fileName): \(registry.failures)", file: file, line: line)
        return registry
    }

    /// A registry holding the bundled plugins and the fixtures `fileNames` (compiled now).
    static func bundledRegistry(adding fileNames: [String], file: StaticString = #filePath, line: UInt = #line) throws -> PluginRegistry {
        let registry = bundledRegistry(file: file, line: line)
        let dir = try temporaryDirectory()
        for name in fileNames {
            let path = try compileFixture(name, into: dir, file: file, line: line)
            XCTAssertTrue(registry.load(file: path), "\(name): \(registry.failures)", file: file, line: line)
        }
        return registry
    }

    /// A registry holding only the bundled plugins (built next to the test binary by `swift build`).
    static func bundledRegistry(file: StaticString = #filePath, line: UInt = #line) -> PluginRegistry {
        let registry = PluginRegistry()
        registry.load(directories: PluginSearchPath.directories(commandLine: [], environment: [:], config: []))
        XCTAssertTrue(registry.failures.isEmpty, "bundled plugins failed: \(registry.failures)", file: file, line: line)
        XCTAssertFalse(registry.libraries.isEmpty, "no bundled plugins found next to the test binary in \(PluginSearchPath.bundledDirectory ?? "?"): run `swift build -c release` first", file: file, line: line)
        return registry
    }
}
