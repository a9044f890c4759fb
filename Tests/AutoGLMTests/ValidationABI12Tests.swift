@testable import AutoGLM
import Foundation
import XCTest

/// `plugins validate`'s ABI 1.2 checks: exactly one exported symbol (read from the ELF dynamic
/// symbol table) and incremental decoding against the forward.
final class ValidationABI12Tests: XCTestCase {
    func testExtraExportedSymbolsAreNamed() throws {
        let dir = try PluginBuilder.temporaryDirectory()
        let path = try PluginBuilder.compileFixture("extra_export.c", into: dir)
        let report = PluginValidator.validate(file: path)
        let check = try XCTUnwrap(report.checks.first { $0.name.hasPrefix("exports exactly one symbol") })
        XCTAssertFalse(check.passed)
        XCTAssertTrue(check.detail.contains("also exports extra_counter, extra_helper"), check.detail)
        XCTAssertTrue(check.detail.contains("-fvisibility=hidden"), check.detail)
    }

    func testBundledPluginsExportOnlyTheirEntryPoint() throws {
        let dir = try XCTUnwrap(PluginSearchPath.bundledDirectory)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("libaglm_") && $0.hasSuffix(".so") }
        XCTAssertGreaterThan(files.count, 30)
        let nm = try? PluginBuilder.run(["nm", "-D", "--defined-only", dir + "/" + files[0]])
        for file in files {
            XCTAssertEqual(try ELFSymbols.exported(path: dir + "/" + file), ["aglm_plugin_entry_v1"], file)
        }
        // The same reading as binutils' nm, where it is installed (not needed at run time).
        if let nm, nm.status == 0 {
            let names = nm.output.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
            XCTAssertEqual(names.filter { !ELFSymbols.linkerDefined.contains($0) }.sorted(),
                           try ELFSymbols.exported(path: dir + "/" + files[0]))
        }
        XCTAssertThrowsError(try ELFSymbols.exported(bytes: Array("not an elf file at all, clearly".utf8) + [UInt8](repeating: 0, count: 40)))
    }

    func testADecodeThatDiffersFromTheForwardFails() throws {
        let dir = try PluginBuilder.temporaryDirectory()
        let path = try PluginBuilder.compileFixture("attention_1_0.c", into: dir, defines: ["BAD_DECODE"])
        let report = PluginValidator.validate(file: path)
        let check = try XCTUnwrap(report.checks.first { $0.name.hasPrefix("incremental decode") }, report.render().joined(separator: "\n"))
        XCTAssertFalse(check.passed)
        XCTAssertTrue(check.detail.contains("decoded outputs differ from forward's"), check.detail)
    }
}
