import AutoGLM
import CAutoGLM
import Foundation

// Saving and loading checkpoints (autoglm.h documents each function).

/// aglm_session_save.
@c(aglm_session_save)
public func aglmSessionSave(_ session: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> aglm_status {
    Boundary.session("aglm_session_save", session) { box in
        try box.session.save(to: URL(fileURLWithPath: try CArguments.string(path, "path"), isDirectory: true))
    }
}

/// aglm_session_load.
@c(aglm_session_load)
public func aglmSessionLoad(_ session: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ allowConfigChange: Int32) -> aglm_status {
    Boundary.session("aglm_session_load", session) { box in
        let url = URL(fileURLWithPath: try CArguments.string(path, "path"), isDirectory: true)
        box.metricsChange()
        try box.session.load(from: url, allowConfigChange: allowConfigChange != 0)
    }
}
