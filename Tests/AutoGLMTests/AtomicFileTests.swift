@testable import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// `AtomicFile`: the destination is either the previous file or the complete new one, and no
/// temporary file survives a failure.
final class AtomicFileTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try PluginBuilder.temporaryDirectory("autoglm-atomic")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A failure injected midway: the producer throws after part of the file was written.
    private struct InjectedFailure: Error {}

    func testWritesTheWholeContentAndLeavesNoTemporaryFile() throws {
        let url = directory.appendingPathComponent("run.json")
        try AtomicFile.write(Data("first".utf8), to: url)
        try AtomicFile.write(to: url) { output in
            try output.append(Data("sec".utf8))
            let big = [UInt8](repeating: 0xAB, count: 3 << 20)  // several MiB in one append
            try big.withUnsafeBytes { try output.append($0) }
        }
        let content = try Data(contentsOf: url)
        XCTAssertEqual(content.prefix(3), Data("sec".utf8))
        XCTAssertEqual(content.count, 3 + (3 << 20))
        XCTAssertEqual(try entries(), ["run.json"])
    }

    func testFailureMidwayKeepsThePreviousFileAndRemovesTheTemporaryOne() throws {
        let url = directory.appendingPathComponent("model.safetensors")
        try AtomicFile.write(Data("previous".utf8), to: url)
        XCTAssertThrowsError(try AtomicFile.write(to: url) { output in
            try output.append(Data("half of the new fi".utf8))
            throw InjectedFailure()
        }) { error in
            XCTAssertTrue(error is InjectedFailure, "the producer's error comes back: \(error)")
        }
        XCTAssertEqual(try Data(contentsOf: url), Data("previous".utf8))
        XCTAssertEqual(try entries(), ["model.safetensors"])
    }

    func testFailedRenameLeavesNoTemporaryFile() throws {
        // The destination is a directory: everything is written, then the rename fails.
        let url = directory.appendingPathComponent("taken")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: url)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("\(url.path): cannot rename the temporary file \(directory.path)/.taken.tmp-"), message)
            XCTAssertTrue(message.hasSuffix(": Is a directory"), message)
        }
        XCTAssertEqual(try entries(), ["taken"])
    }

    func testMissingDirectoryIsReportedAndNothingIsCreated() throws {
        let url = directory.appendingPathComponent("no/such/dir/run.json")
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: url)) { error in
            XCTAssertEqual("\(error)", "\(url.path): cannot create a temporary file in \(directory.path)/no/such/dir: No such file or directory")
        }
        XCTAssertEqual(try entries(), [])
    }

    func testOutputCannotBeUsedAfterTheWriteFinished() throws {
        let url = directory.appendingPathComponent("run.json")
        var kept: AtomicFile.Output?
        try AtomicFile.write(to: url) { output in
            try output.append(Data("done".utf8))
            kept = output
        }
        XCTAssertThrowsError(try kept?.append(Data("late".utf8))) { error in
            XCTAssertTrue("\(error)".contains("written to after its atomic write finished"), "\(error)")
        }
        XCTAssertEqual(try Data(contentsOf: url), Data("done".utf8))
    }

    func testNewFileGetsTheUsualPermissions() throws {
        let url = directory.appendingPathComponent("run.json")
        try AtomicFile.write(Data("x".utf8), to: url)
        let plain = directory.appendingPathComponent("plain")
        XCTAssertTrue(FileManager.default.createFile(atPath: plain.path, contents: nil))
        let mode = { (path: String) in try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) }
        XCTAssertEqual(try mode(url.path), try mode(plain.path), "0666 less the umask, not mkstemp's 0600")
    }

    func testSafetensorsWriteThatFailsKeepsThePreviousWeights() throws {
        let url = directory.appendingPathComponent("model.safetensors")
        try Safetensors.write([(name: "w", tensor: Tensor(shape: [2], values: [1, 2]))], to: url)
        let before = try Data(contentsOf: url)
        let t = Tensor(shape: [1], values: [9])
        XCTAssertThrowsError(try Safetensors.write([(name: "w", tensor: t), (name: "w", tensor: t)], to: url))
        XCTAssertEqual(try Data(contentsOf: url), before)
        XCTAssertEqual(try entries(), ["model.safetensors"])
    }

    /// The names in the test directory, sorted (hidden temporary files included).
    private func entries() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }
}
