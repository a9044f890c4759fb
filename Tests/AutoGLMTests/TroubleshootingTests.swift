import Foundation
import XCTest

/// README's Troubleshooting section lists every plugin-load, registration, config and data error
/// the host can print: each message written in the sources appears there (its longest literal
/// part, between interpolations), so a new message without an entry fails this test.
final class TroubleshootingTests: XCTestCase {
    /// The files whose error messages the section covers.
    private static let sources: [String] = {
        let root = PluginBuilder.repoRoot.appendingPathComponent("Sources/AutoGLM")
        let config = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Config").path)) ?? []
        return ["Plugins/LibraryLoader.swift", "Plugins/DescriptorValidation.swift", "Plugins/PluginRegistry.swift",
                "Training/Corpus.swift"].map { root.appendingPathComponent($0).path }
            + config.filter { $0.hasSuffix(".swift") && $0 != "ConfigReference.swift" }.sorted()
                .map { root.appendingPathComponent("Config/\($0)").path }
    }()

    /// Lines that build an error: a throw, a reason, a message, a missing function.
    private static let triggers = ["throw", "reason(", "bad(", "missing(", "message:", ".error("]

    /// The string literals of a line of Swift, each as its literal parts between interpolations
    /// (an interpolation may hold string literals of its own).
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
                    current.append(c[i]); current.append(c[i + 1]); i += 2
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
    static func messages(in file: String) throws -> [(line: Int, text: String)] {
        let trim = CharacterSet.whitespaces.union(CharacterSet(charactersIn: "'.,:;()[]"))
        var found: [(Int, String)] = [], previous = ""
        for (number, line) in try String(contentsOfFile: file, encoding: .utf8).components(separatedBy: "\n").enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            defer { previous = trimmed }
            guard !trimmed.hasPrefix("//") else { continue }
            let continues = previous.contains("throw") && previous.hasSuffix("(")
            guard triggers.contains(where: line.contains) || trimmed.hasPrefix("+ \"") || continues else { continue }
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
        XCTAssertEqual(Self.literals(#"a("one \"quoted\"", "two")"#), [[#"one \"quoted\""#], ["two"]])
    }

    func testEveryErrorMessageHasAnEntry() throws {
        let readme = try String(contentsOf: PluginBuilder.repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try XCTUnwrap(readme.range(of: "## Troubleshooting"))
        let end = try XCTUnwrap(readme.range(of: "\n## ", range: start.upperBound..<readme.endIndex))
        let section = String(readme[start.upperBound..<end.lowerBound])
        var total = 0
        for file in Self.sources {
            let messages = try Self.messages(in: file)
            total += messages.count
            for (line, text) in messages where !section.contains(text) {
                XCTFail("\(URL(fileURLWithPath: file).lastPathComponent):\(line): '\(text)' is not in README's Troubleshooting")
            }
        }
        XCTAssertGreaterThan(total, 80, "the scanner found the messages")
    }
}
