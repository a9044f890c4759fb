import AutoGLM
import CAutoGLM

// Creating, freeing and stopping sessions (autoglm.h documents each function).

/// aglm_session_create.
@c(aglm_session_create)
public func aglmSessionCreate(_ options: UnsafePointer<aglm_session_options>?,
                              _ session: UnsafeMutablePointer<OpaquePointer?>?) -> aglm_status {
    Boundary.run("aglm_session_create") {
        let out = try CArguments.out(session, "session")
        let box = SessionBox(try Session(try OptionsTranslation.sessionOptions(options)))
        out.pointee = SessionHandles.issue(box)
    }
}

/// aglm_session_free.
@c(aglm_session_free)
public func aglmSessionFree(_ session: OpaquePointer?) -> aglm_status {
    Boundary.session("aglm_session_free", session) { box in
        box.markFreed()
        SessionHandles.withdraw(session)
    }
}

/// aglm_session_request_stop: the one function that does not enter the session.
@c(aglm_session_request_stop)
public func aglmSessionRequestStop(_ session: OpaquePointer?) -> aglm_status {
    Boundary.run("aglm_session_request_stop") { try SessionHandles.box(session).session.requestStop() }
}
