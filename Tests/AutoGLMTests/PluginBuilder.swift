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

    /// Compiles `source` (a path) into `directory/name.so` with `cc -shared -fPIC -I include`;
    /// fails the test with the compiler's output if it does not compile.
    @discardableResult
    static func compile(_ source: String, into directory: URL, name: String? = nil,
                        file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let base = name ?? URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent
        let out = directory.appendingPathComponent(base + ".so").path
        let result = try run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-O2",
                              "-I", includeDir, "-o", out, source])
        XCTAssertEqual(result.status, 0, "cc failed for \(source):\n\(result.output)", file: file, line: line)
        return out
    }

    /// Compiles a fixture from Tests/AutoGLMTests/Fixtures by file name.
    @discardableResult
    static func compileFixture(_ fileName: String, into directory: URL,
                               file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try compile((fixturesDir as NSString).appendingPathComponent(fileName), into: directory, file: file, line: line)
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
