extension RunDirectory.CheckpointChoice {
    /// The choice `text` names: "latest", "best", or a step number ("500"); nil for anything
    /// else. How `autoglm sample --checkpoint` and the C API's `checkpoint` option read it.
    public init?(text: String) {
        switch text {
        case "latest": self = .latest
        case "best": self = .best
        default:
            guard let step = Int(text), step >= 0 else { return nil }
            self = .step(step)
        }
    }
}
