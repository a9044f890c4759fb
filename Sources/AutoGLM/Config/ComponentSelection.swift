import Foundation

/// A component chosen by the config (`attention.name`, `optimizer.name`, an entry of
/// `evaluators` / `callbacks`) with its parameters: complete (every parameter of the schema,
/// defaults filled in) and validated against the schema.
public struct ComponentSelection: Sendable, Equatable {
    /// Kind of component.
    public var kind: ComponentKind
    /// Registered name.
    public var name: String
    /// Parameter values by name.
    public var parameters: [String: ParameterValue]

    /// Creates a selection.
    public init(kind: ComponentKind, name: String, parameters: [String: ParameterValue] = [:]) {
        self.kind = kind; self.name = name; self.parameters = parameters
    }
}
