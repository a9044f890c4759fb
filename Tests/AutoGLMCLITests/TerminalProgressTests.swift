import AutoGLM
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `autoglm train` as a user sees it: standard error on a pseudo-terminal of 60 columns (a
/// redrawn bar), or on a pipe (plain lines, no terminal codes).
final class TerminalProgressTests: XCTestCase {
    private var executable: String { (PluginSearchPath.bundledDirectory ?? ".") + "/autoglm" }

    /// What the reader thread received (read after it signalled).
    private final class Received: @unchecked Sendable { var data = Data() }

    /// A tiny run on a small corpus written for the test.
    private func trainArguments() throws -> [String] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("autoglm-tty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let corpus = dir.appendingPathComponent("corpus.txt")
        try String(repeating: "the cat sat on the mat. a dog ran to the park. ", count: 200)
            .write(to: corpus, atomically: true, encoding: .utf8)
        return ["train", "--set", "data.path=\(corpus.path)", "--set", "run.dir=\(dir.appendingPathComponent("run").path)",
                "--set", "model.n_layer=1", "--set", "model.n_head=2", "--set", "model.n_embd=16", "--set", "model.block_size=16",
                "--set", "train.batch_size=2", "--set", "train.steps=30", "--set", "train.eval_interval=15",
                "--set", "train.eval_batches=5", "--set", "train.threads=1"]
    }

    /// Runs autoglm with standard error on a new pseudo-terminal of `columns` columns; returns
    /// the status, standard output and what the terminal received.
    private func runOnTerminal(_ arguments: [String], columns: UInt16) throws -> (Int32, String, String) {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: executable), "build the autoglm executable first")
        var master: Int32 = 0, slave: Int32 = 0
        var size = winsize(ws_row: 24, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        guard openpty(&master, &slave, nil, nil, &size) == 0 else { throw XCTSkip("no pseudo-terminal: errno \(errno)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"]
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        // Read the terminal while the run writes (its buffer is a few KB).
        let received = Received(), terminal = master
        let done = DispatchSemaphore(value: 0)
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(terminal, &buffer, buffer.count)
                if n <= 0 { break }  // EIO once the last writer closed the terminal
                received.data.append(buffer, count: n)
            }
            done.signal()
        }
        try process.run()
        close(slave)
        reader.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        close(master)
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: received.data, as: UTF8.self))
    }

    func testOnATerminalTheBarIsRedrawnWithinItsWidth() throws {
        let (status, output, terminal) = try runOnTerminal(try trainArguments(), columns: 60)
        XCTAssertEqual(status, 0, terminal)
        XCTAssertTrue(output.contains("done: 30 steps"), output)
        let text = terminal.replacingOccurrences(of: "\r\n", with: "\n")  // the terminal's own newline translation
        // A line of the terminal is its last state: what follows the last "\r ESC[K".
        let lines = text.split(separator: "\n").map { $0.components(separatedBy: "\r\u{1B}[K").last ?? "" }
        // The status line's states: the redraws that a later redraw replaced.
        let redraws = text.split(separator: "\n").flatMap { $0.components(separatedBy: "\r\u{1B}[K").dropFirst().dropLast() }
        XCTAssertFalse(redraws.isEmpty, text)
        XCTAssertTrue(redraws.allSatisfy { $0.count <= 59 }, "longer than 59 columns: \(redraws.filter { $0.count > 59 })")
        XCTAssertTrue(lines.contains { $0.hasPrefix("step 30/30 [") && $0.contains("█") && $0.count <= 59 }, text)
        XCTAssertTrue(lines.contains { $0.hasPrefix("eval at step 15: val/loss ") }, text)
        XCTAssertTrue(text.hasSuffix("\n"), "the bar's line is ended")
    }

    func testOnAPipeThereArePlainLines() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: executable), "build the autoglm executable first")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = try trainArguments()
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = Pipe()
        try process.run()
        let text = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssertFalse(text.contains("\u{1B}") || text.contains("\r"), text)
        let lines = text.split(separator: "\n")
        XCTAssertTrue(lines.contains { $0.hasPrefix("step    30/30 | loss ") }, text)
        XCTAssertTrue(lines.contains { $0.hasPrefix("eval at step 30: val/loss ") }, text)
    }
}
