import AutoGLMCore
import CAutoGLM
import Foundation

/// The model's trainable parameters as callbacks see them through `model_param_count`,
/// `model_param` and `model_param_find` (ABI 1.2): the tensors themselves (writes change the
/// model), in the model's order, with their roles.
public final class ModelParameters: @unchecked Sendable {
    /// The parameters, in the model's order.
    let tensors: [Tensor]
    /// Their descriptions, index for index.
    let descriptions: [ParameterInfoStorage]
    /// Indices by name.
    private let indexByName: [String: Int]

    /// The parameters `tensors` with `roles` (index for index; missing roles are unknown).
    public init(_ tensors: [Tensor], roles: [ParameterRole] = []) {
        self.tensors = tensors
        descriptions = tensors.enumerated().map { i, t in
            ParameterInfoStorage(parameter: t, index: i, role: i < roles.count ? roles[i] : [])
        }
        indexByName = Dictionary(descriptions.enumerated().map { ($1.displayName, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The parameters of `model`, with their roles.
    public convenience init(model: GPT) { self.init(model.parameters, roles: model.parameterRoles) }

    /// Index of the parameter named `name`.
    func index(named name: String) -> Int? { indexByName[name] }

    /// Every name, in order (for messages).
    var names: [String] { descriptions.map(\.displayName) }
}
