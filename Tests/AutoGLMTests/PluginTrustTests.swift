import AutoGLM
import Foundation
import XCTest

/// Plugin files others could write are refused, and a folder's `plugins.lock` lets only the
/// files it lists, unchanged, load. Fixtures compiled with `cc`.
final class PluginTrustTests: XCTestCase {
    /// A folder holding `fixtures`, compiled.
    private func folder(_ fixtures: [String]) throws -> URL {
        let dir = try PluginBuilder.temporaryDirectory("trust")
        for fixture in fixtures { try PluginBuilder.compileFixture(fixture, into: dir) }
        return dir
    }

    private func scan(_ dir: URL) -> PluginRegistry {
        let registry = PluginRegistry()
        registry.load(directories: [PluginDirectory(path: dir.path, origin: .commandLine)])
        return registry
    }

    func testAWorldWritableFileIsRefusedWithTheFix() throws {
        let dir = try folder(["old_minor.c"])
        let file = dir.appendingPathComponent("old_minor.so").path
        XCTAssertEqual(chmod(file, 0o777), 0)
        let registry = PluginRegistry()
        XCTAssertFalse(registry.load(file: file))
        let message = registry.failures.first?.description ?? ""
        XCTAssertTrue(message.contains("the plugin file (\(file)) is world-writable"), message)
        XCTAssertTrue(message.contains("chmod o-w \(file)"), message)
    }

    func testAWorldWritableScannedFolderIsRefusedButASharedStickyFolderMayHoldANamedFile() throws {
        let dir = try folder(["old_minor.c"])
        XCTAssertEqual(chmod(dir.path, 0o1777), 0)
        let scanned = scan(dir)
        XCTAssertTrue(scanned.libraries.isEmpty)
        let message = scanned.failures.first?.description ?? ""
        XCTAssertTrue(message.contains("its folder (\(dir.path)) is world-writable"), message)
        // Named directly, the file in a sticky folder (like /tmp) cannot be replaced by others.
        let named = PluginRegistry()
        XCTAssertTrue(named.load(file: dir.appendingPathComponent("old_minor.so").path), "\(named.failures)")
        // Without the sticky bit anyone could replace it.
        XCTAssertEqual(chmod(dir.path, 0o777), 0)
        XCTAssertFalse(PluginRegistry().load(file: dir.appendingPathComponent("old_minor.so").path))
    }

    func testAFileOwnedByAnotherUserIsRefused() throws {
        try XCTSkipUnless(geteuid() == 0, "giving a file to another user needs root")
        let dir = try folder(["old_minor.c"])
        let file = dir.appendingPathComponent("old_minor.so").path
        XCTAssertEqual(chown(file, 12345, 12345), 0)
        let registry = PluginRegistry()
        XCTAssertFalse(registry.load(file: file))
        let message = registry.failures.first?.description ?? ""
        XCTAssertTrue(message.contains("is owned by user 12345, not by you (0) or root"), message)
    }

    func testALockedFolderLoadsOnlyItsUnchangedFiles() throws {
        let dir = try folder(["old_minor.c", "toy_metric.c"])
        let entries = try PluginLock.write(folder: dir.path)
        XCTAssertEqual(entries.map(\.name), ["old_minor.so", "toy_metric.so"])
        // The lock is sha256sum's format: coreutils checks it too.
        let check = try PluginBuilder.run(["sha256sum", "-c", PluginLock.fileName], in: dir)
        XCTAssertEqual(check.status, 0, check.output)
        XCTAssertEqual(scan(dir).libraries.count, 2)

        // A file added after the lock.
        try PluginBuilder.compileFixture("minor_1_1.c", into: dir)
        var registry = scan(dir)
        XCTAssertEqual(registry.libraries.count, 2)
        var message = registry.failures.map(\.description).joined(separator: "\n")
        XCTAssertTrue(message.contains("minor_1_1.so") && message.contains("not listed in \(dir.path)/plugins.lock"), message)
        XCTAssertTrue(message.contains("autoglm plugins lock \(dir.path)"), message)

        // A file changed after the lock (a byte appended: still a loadable library).
        let metric = dir.appendingPathComponent("toy_metric.so")
        let handle = try FileHandle(forWritingTo: metric)
        handle.seekToEndOfFile()
        handle.write(Data([0]))
        try handle.close()
        registry = scan(dir)
        message = registry.failures.map(\.description).joined(separator: "\n")
        XCTAssertEqual(registry.libraries.map { ($0.file as NSString).lastPathComponent }, ["old_minor.so"])
        XCTAssertTrue(message.contains("toy_metric.so") && message.contains("the file changed since the folder was locked"), message)

        // Locking again accepts them.
        try PluginLock.write(folder: dir.path)
        XCTAssertEqual(scan(dir).libraries.count, 3)
    }

    func testADamagedLockRefusesTheFolderNamingTheLine() throws {
        let dir = try folder(["old_minor.c"])
        try "not a digest  old_minor.so\n".write(to: dir.appendingPathComponent(PluginLock.fileName), atomically: true, encoding: .utf8)
        let message = scan(dir).failures.first?.description ?? ""
        XCTAssertTrue(message.contains("plugins.lock:1: not '<sha-256 in hex>  <file name>'"), message)
    }

    func testAMissingPluginFolderIsReported() throws {
        let registry = PluginRegistry()
        registry.load(directories: [PluginDirectory(path: "/nonexistent/plugins", origin: .commandLine)])
        let message = registry.failures.first?.description ?? ""
        XCTAssertTrue(message.contains("/nonexistent/plugins") && message.contains("no such file or folder (given by --plugins)"), message)
    }
}
