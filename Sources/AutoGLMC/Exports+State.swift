import AutoGLM
import CAutoGLM

// The run's state and the model's parameters (autoglm.h documents each function).

/// aglm_session_step.
@c(aglm_session_step)
public func aglmSessionStep(_ session: OpaquePointer?, _ step: UnsafeMutablePointer<Int64>?) -> aglm_status {
    Boundary.read("aglm_session_step", session, into: step, "step") { Int64($0.session.state.step) }
}

/// aglm_session_loss.
@c(aglm_session_loss)
public func aglmSessionLoss(_ session: OpaquePointer?, _ loss: UnsafeMutablePointer<Double>?) -> aglm_status {
    Boundary.read("aglm_session_loss", session, into: loss, "loss") { $0.session.state.loss }
}

/// aglm_session_lr.
@c(aglm_session_lr)
public func aglmSessionLR(_ session: OpaquePointer?, _ lr: UnsafeMutablePointer<Double>?) -> aglm_status {
    Boundary.read("aglm_session_lr", session, into: lr, "lr") { $0.session.state.lr }
}

/// aglm_session_parameter_count.
@c(aglm_session_parameter_count)
public func aglmSessionParameterCount(_ session: OpaquePointer?, _ count: UnsafeMutablePointer<Int64>?) -> aglm_status {
    Boundary.read("aglm_session_parameter_count", session, into: count, "count") { Int64($0.session.model.parameterCount) }
}

/// aglm_session_run_dir.
@c(aglm_session_run_dir)
public func aglmSessionRunDir(_ session: OpaquePointer?, _ path: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> aglm_status {
    Boundary.read("aglm_session_run_dir", session, into: path, "path") { $0.runDirectory }
}

/// aglm_session_tensor_count.
@c(aglm_session_tensor_count)
public func aglmSessionTensorCount(_ session: OpaquePointer?, _ count: UnsafeMutablePointer<Int>?) -> aglm_status {
    Boundary.read("aglm_session_tensor_count", session, into: count, "count") { $0.tensors.count }
}

/// aglm_session_tensor_name.
@c(aglm_session_tensor_name)
public func aglmSessionTensorName(_ session: OpaquePointer?, _ index: Int,
                                  _ name: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> aglm_status {
    Boundary.read("aglm_session_tensor_name", session, into: name, "name") { box in
        box.tensors[try CArguments.index(index, count: box.tensors.count, "parameter tensors")].name
    }
}

/// aglm_session_parameter.
@c(aglm_session_parameter)
public func aglmSessionParameter(_ session: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                                 _ view: UnsafeMutablePointer<aglm_view>?) -> aglm_status {
    Boundary.session("aglm_session_parameter", session) { box in
        let wanted = try CArguments.string(name, "name")
        guard let tensor = box.tensors.first(where: { $0.tensor.name == wanted }) else {
            throw APIError.invalid("the model has no parameter '\(wanted)': aglm_session_tensor_name lists them (e.g. '\(box.tensors.first?.tensor.name ?? "")')")
        }
        try StructLayout.write(tensor.view, to: view, "view")
    }
}
