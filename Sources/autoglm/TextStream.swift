import Foundation

/// Where the progress display writes: a file descriptor, whether it is a terminal, and how many
/// columns that terminal has now.
struct TextStream: Sendable {
    /// Writes text as is (no newline added).
    let write: @Sendable (String) -> Void
    /// Whether the stream is a terminal (then a status line can be redrawn in place).
    let isTerminal: Bool
    /// Columns of the terminal now (it may be resized while training).
    let columns: @Sendable () -> Int

    /// Standard error.
    static let standardError = TextStream(descriptor: STDERR_FILENO, handle: .standardError)
    /// Standard output.
    static let standardOutput = TextStream(descriptor: STDOUT_FILENO, handle: .standardOutput)

    /// A stream for any writer (tests, embedding).
    init(isTerminal: Bool, columns: @escaping @Sendable () -> Int, write: @escaping @Sendable (String) -> Void) {
        self.isTerminal = isTerminal
        self.columns = columns
        self.write = write
    }

    /// The stream of an open descriptor.
    private init(descriptor: Int32, handle: FileHandle) {
        self.init(isTerminal: isatty(descriptor) != 0, columns: { Self.columns(of: descriptor) },
                  write: { handle.write(Data($0.utf8)) })
    }

    /// The terminal's width from TIOCGWINSZ, else `COLUMNS`, else 80.
    private static func columns(of descriptor: Int32) -> Int {
        var size = winsize()
        if ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init) ?? 80
    }
}
