import AutoGLM
import CAutoGLM

// What the session found: components with their schemas, functions (autoglm.h documents each
// function).

/// aglm_session_component_count.
@c(aglm_session_component_count)
public func aglmSessionComponentCount(_ session: OpaquePointer?, _ count: UnsafeMutablePointer<Int>?) -> aglm_status {
    Boundary.read("aglm_session_component_count", session, into: count, "count") { $0.components.count }
}

/// aglm_session_component.
@c(aglm_session_component)
public func aglmSessionComponent(_ session: OpaquePointer?, _ index: Int, _ info: UnsafeMutablePointer<aglm_component_info>?) -> aglm_status {
    Boundary.session("aglm_session_component", session) { box in
        let component = box.components[try CArguments.index(index, count: box.components.count, "components")]
        try StructLayout.write(component.info, to: info, "info")
    }
}

/// aglm_session_component_param.
@c(aglm_session_component_param)
public func aglmSessionComponentParam(_ session: OpaquePointer?, _ component: Int, _ param: Int,
                                      _ spec: UnsafeMutablePointer<aglm_param_spec>?) -> aglm_status {
    Boundary.session("aglm_session_component_param", session) { box in
        let listing = box.components[try CArguments.index(component, count: box.components.count, "components")]
        let name = String(cString: listing.info.name)
        let parameter = listing.parameters[try CArguments.index(param, count: listing.parameters.count, "parameters in '\(name)'")]
        try StructLayout.write(parameter, to: spec, "spec")
    }
}

/// aglm_session_function_count.
@c(aglm_session_function_count)
public func aglmSessionFunctionCount(_ session: OpaquePointer?, _ count: UnsafeMutablePointer<Int>?) -> aglm_status {
    Boundary.read("aglm_session_function_count", session, into: count, "count") { $0.functions.count }
}

/// aglm_session_function.
@c(aglm_session_function)
public func aglmSessionFunction(_ session: OpaquePointer?, _ index: Int, _ entry: UnsafeMutablePointer<aglm_function_entry>?) -> aglm_status {
    Boundary.session("aglm_session_function", session) { box in
        let function = box.functions[try CArguments.index(index, count: box.functions.count, "functions")]
        try StructLayout.write(function, to: entry, "entry")
    }
}
