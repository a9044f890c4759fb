/// A run log that cannot be read, or a chart that cannot be drawn or written; the message names
/// the file and, where there is one, the fix.
public struct PlotError: Error, CustomStringConvertible {
    /// What is wrong.
    public let message: String
    /// The message.
    public var description: String { message }

    /// An error with `message`.
    public init(_ message: String) { self.message = message }
}
