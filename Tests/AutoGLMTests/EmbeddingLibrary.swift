import AutoGLM
import Foundation
import XCTest

/// libautoglm as the tests use it: the library `swift build` makes, the C programs compiled
/// against it with the system `cc`, and the headers' declared functions.
enum EmbeddingLibrary {
    /// The header of the C API.
    static let header = PluginBuilder.includeDir + "/autoglm/autoglm.h"

    /// The library file SwiftPM builds (libAutoGLMC.so, soname libautoglm.so.<major>).
    static func file(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let path = (PluginSearchPath.bundledDirectory ?? ".") + "/libAutoGLMC.so"
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("\(path) is missing: build it with `make build` (or `swift build -c release`) first", file: file, line: line)
            throw CocoaError(.fileNoSuchFile)
        }
        return path
    }

    /// A directory holding the library under the names a C program links with and runs with
    /// (libautoglm.so and the soname), as `make build` links them into .build/release.
    static func linkDirectory() throws -> URL {
        let dir = try PluginBuilder.temporaryDirectory("libautoglm")
        let soname = "libautoglm.so.\(try apiVersion().major)"
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent(soname).path, withDestinationPath: try file())
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("libautoglm.so").path, withDestinationPath: soname)
        return dir
    }

    /// Compiles the C program `source` against the in-tree header and the library in `libraries`
    /// (strict C99, warnings as errors, with an rpath to it), with the compiler's `extra`
    /// arguments (another library's flags); returns the executable's path.
    static func compile(_ source: String, libraries: URL, into dir: URL, extra: [String] = [],
                        file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let out = dir.appendingPathComponent(URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent).path
        let result = try PluginBuilder.run(["cc", "-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-O2",
                                            "-I", PluginBuilder.includeDir, "-o", out, source,
                                            "-L", libraries.path, "-lautoglm", "-Wl,-rpath," + libraries.path,
                                            "-lpthread", "-lm"] + extra)
        XCTAssertEqual(result.status, 0, "cc failed for \(source):\n\(result.output)", file: file, line: line)
        return out
    }

    /// The test corpus (TrainingTests.corpus) as a file in `dir`.
    static func corpus(in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("corpus.txt").path
        try TrainingTests.corpus.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// AGLM_API_MAJOR and AGLM_API_MINOR as the header defines them.
    static func apiVersion() throws -> (major: Int, minor: Int) {
        let text = try String(contentsOfFile: header, encoding: .utf8)
        func define(_ name: String) -> Int? {
            text.split(separator: "\n").first { $0.hasPrefix("#define \(name) ") }.flatMap { Int($0.split(separator: " ").last!) }
        }
        guard let major = define("AGLM_API_MAJOR"), let minor = define("AGLM_API_MINOR") else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return (major, minor)
    }

    /// The names of the functions the header declares (`AGLM_API type name(`), in order.
    static func declaredFunctions() throws -> [String] {
        let text = try String(contentsOfFile: header, encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"^AGLM_API [^(;]*?\b(aglm_[a-z0-9_]+)\("#, options: .anchorsMatchLines)
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
            String(text[Range($0.range(at: 1), in: text)!])
        }
    }

    /// Runs a compiled test program; fails the test with its output unless it exits 0.
    @discardableResult
    static func runProgram(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try PluginBuilder.run(arguments)
        XCTAssertEqual(result.status, 0, "\(arguments.joined(separator: " ")) failed:\n\(result.output)", file: file, line: line)
        return result.output
    }
}
