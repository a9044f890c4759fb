import Foundation
import XCTest

/// README's Troubleshooting section lists every plugin-load, registration, config, data and
/// data-parallel (MPI) error the host can print: each message written in the sources appears there (its longest literal
/// part, between interpolations), so a new message without an entry fails this test.
final class TroubleshootingTests: XCTestCase {
    /// The files whose error messages the section covers, with the extra line starts that build a
    /// message in each (ABINegotiation returns its reasons).
    private static let sources: [(path: String, extraTriggers: [String])] = {
        let root = PluginBuilder.repoRoot.appendingPathComponent("Sources/AutoGLM")
        let config = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Config").path)) ?? []
        let files = ["Plugins/LibraryLoader.swift", "Plugins/ABINegotiation.swift", "Plugins/DescriptorValidation.swift",
                     "Plugins/PluginRegistry.swift", "Plugins/PluginTrust.swift", "Plugins/PluginLock.swift",
                     "Plugins/PluginProbe.swift", "Model/MemoryEstimate.swift", "Functions/PluginRegistry+Functions.swift",
                     "Functions/RegisteredFunction.swift", "Functions/CPrototype.swift", "Training/Corpus.swift",
                     "Distributed/Communicator.swift", "Distributed/DataParallel.swift", "Distributed/RanksDrifted.swift"]
            + config.filter { $0.hasSuffix(".swift") && $0 != "ConfigReference.swift" }.sorted().map { "Config/\($0)" }
        // Files whose messages are returned rather than thrown.
        let returning = ["ABINegotiation.swift", "PluginTrust.swift", "PluginLock.swift", "PluginProbe.swift", "MemoryEstimate.swift",
                         "RanksDrifted.swift"]
        return files.map { file in
            (root.appendingPathComponent(file).path, returning.contains { file.hasSuffix($0) } ? ["return \""] : [])
        }
    }()

    /// Lines that build an error: a throw, a reason, a message, a missing function.
    private static let triggers = ["throw ", "reason(", "bad(", "missing(", "message:", ".error("]

    /// The string literals of a line of Swift, each as its literal parts between interpolations
    /// (an interpolation may hold string literals of its own); `\"` and `\\` as they print, other
    /// escapes as written.
    static func literals(_ line: String) -> [[String]] {
        let c = Array(line)
        var out: [[String]] = [], i = 0
        while i < c.count {
            if c[i] == "/", i + 1 < c.count, c[i + 1] == "/" { break }
            guard c[i] == "\"" else { i += 1; continue }
            if i + 2 < c.count, c[i + 1] == "\"", c[i + 2] == "\"" { break }  // a multi-line literal
            i += 1
            var parts: [String] = [], current = ""
            while i < c.count, c[i] != "\"" {
                if c[i] == "\\", i + 1 < c.count, c[i + 1] == "(" {
                    parts.append(current); current = ""
                    i += 2
                    var depth = 1
                    while i < c.count, depth > 0 {
                        if c[i] == "(" { depth += 1 } else if c[i] == ")" { depth -= 1 } else if c[i] == "\"" {
                            i += 1
                            while i < c.count, c[i] != "\"" { i += c[i] == "\\" ? 2 : 1 }
                        }
                        i += 1
                    }
                } else if c[i] == "\\", i + 1 < c.count {
                    if c[i + 1] != "\"" && c[i + 1] != "\\" { current.append(c[i]) }  // \" and \\ as printed
                    current.append(c[i + 1]); i += 2
                } else {
                    current.append(c[i]); i += 1
                }
            }
            parts.append(current)
            out.append(parts)
            i += 1
        }
        return out
    }

    /// The longest literal part of each error message in `file` (at least 8 characters once
    /// trimmed of spaces and punctuation), with its line number.
    static func messages(in file: String, extraTriggers: [String] = []) throws -> [(line: Int, text: String)] {
        let trim = CharacterSet.whitespaces.union(CharacterSet(charactersIn: "'.,:;()[]"))
        var found: [(Int, String)] = [], previous = ""
        for (number, line) in try String(contentsOfFile: file, encoding: .utf8).components(separatedBy: "\n").enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            defer { previous = trimmed }
            guard !trimmed.hasPrefix("//") else { continue }
            let continues = previous.contains("throw") && previous.hasSuffix("(")
            guard (triggers + extraTriggers).contains(where: line.contains) || trimmed.hasPrefix("+ \"") || continues else { continue }
            for parts in literals(line) {
                let longest = parts.map { $0.trimmingCharacters(in: trim) }.max { $0.count < $1.count } ?? ""
                if longest.count >= 8 { found.append((number + 1, longest)) }
            }
        }
        return found
    }

    func testTheScannerFindsLiteralPartsAroundInterpolations() {
        XCTAssertEqual(Self.literals(#"throw reason("built for ABI \(e.abi_major), host speaks \(HostAPI.abiMajor): \(hint)")"#),
                       [["built for ABI ", ", host speaks ", ": ", ""]])
        XCTAssertEqual(Self.literals(#"x("expected \(kind == .int ? "an integer" : "a number"), got \(v)") // "no""#),
                       [["expected ", ", got ", ""]])
        XCTAssertEqual(Self.literals(#"a("one \"quoted\" \n", "two")"#), [[#"one "quoted" \n"#], ["two"]])
    }

    func testEveryErrorMessageHasAnEntry() throws {
        let readme = try String(contentsOf: PluginBuilder.repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try XCTUnwrap(readme.range(of: "## Troubleshooting"))
        let end = try XCTUnwrap(readme.range(of: "\n## ", range: start.upperBound..<readme.endIndex))
        let section = String(readme[start.upperBound..<end.lowerBound])
        var total = 0
        for (file, extra) in Self.sources {
            let messages = try Self.messages(in: file, extraTriggers: extra)
            total += messages.count
            for (line, text) in messages where !section.contains(text) {
                XCTFail("\(URL(fileURLWithPath: file).lastPathComponent):\(line): '\(text)' is not in README's Troubleshooting")
            }
        }
        XCTAssertGreaterThan(total, 100, "the scanner found the messages")
    }
}
