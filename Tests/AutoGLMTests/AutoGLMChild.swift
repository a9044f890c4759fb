import AutoGLM
import Foundation
import XCTest

/// The built `autoglm` executable run as a child process, as a user runs it.
enum AutoGLMChild {
    /// The executable next to the bundled plugins (the build folder).
    static var executable: String { (PluginSearchPath.bundledDirectory ?? ".") + "/autoglm" }

    /// How a child ended and what it printed (standard output and error together).
    struct Outcome {
        /// Exit or signal.
        var reason: Process.TerminationReason
        /// The exit status or the signal number.
        var status: Int32
        /// Everything it printed.
        var output: String
    }

    /// Runs `autoglm arguments`; `started` sees the running process (to signal it).
    @discardableResult
    static func run(_ arguments: [String], in directory: URL? = nil, started: ((Process) -> Void)? = nil) throws -> Outcome {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: executable), "build the autoglm executable first")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        started?(process)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(reason: process.terminationReason, status: process.terminationStatus,
                       output: String(decoding: data, as: UTF8.self))
    }

    /// Starts `command` (an executable and its arguments) in `directory` without waiting, its
    /// standard output and error both to `directory/NAME.out`; `environment` replaces the
    /// inherited one when given.
    static func start(_ command: [String], in directory: URL, name: String,
                      environment: [String: String]? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.currentDirectoryURL = directory
        if let environment { process.environment = environment }
        let out = directory.appendingPathComponent(name + ".out")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        let handle = try FileHandle(forWritingTo: out)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }
}
