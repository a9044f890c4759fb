/// A checkpoint or run directory that cannot be used.
public struct CheckpointError: Error, CustomStringConvertible {
    /// What is wrong.
    public let message: String
    public var description: String { message }
}
