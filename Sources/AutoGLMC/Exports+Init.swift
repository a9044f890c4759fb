import CAutoGLM

// The `_init` functions of autoglm.h's structs (documented there): each checks the program's
// header version and fills the struct with its defaults.

/// aglm_session_options_init.
@c(aglm_session_options_init)
public func aglmSessionOptionsInit(_ options: UnsafeMutablePointer<aglm_session_options>?, _ version: UInt32) -> aglm_status {
    Boundary.run("aglm_session_options_init") {
        try StructLayout.initialize(options, "options", version: version, defaults: Defaults.sessionOptions)
    }
}

/// aglm_sample_options_init.
@c(aglm_sample_options_init)
public func aglmSampleOptionsInit(_ options: UnsafeMutablePointer<aglm_sample_options>?, _ version: UInt32) -> aglm_status {
    Boundary.run("aglm_sample_options_init") {
        try StructLayout.initialize(options, "options", version: version, defaults: Defaults.sampleOptions)
    }
}

/// aglm_function_decl_init.
@c(aglm_function_decl_init)
public func aglmFunctionDeclInit(_ decl: UnsafeMutablePointer<aglm_function_decl>?, _ version: UInt32) -> aglm_status {
    Boundary.run("aglm_function_decl_init") {
        try StructLayout.initialize(decl, "decl", version: version, defaults: Defaults.functionDecl)
    }
}

/// aglm_train_result_init.
@c(aglm_train_result_init)
public func aglmTrainResultInit(_ result: UnsafeMutablePointer<aglm_train_result>?, _ version: UInt32) -> aglm_status {
    Boundary.run("aglm_train_result_init") {
        try StructLayout.initialize(result, "result", version: version, defaults: Defaults.trainResult)
    }
}

/// aglm_component_info_init.
@c(aglm_component_info_init)
public func aglmComponentInfoInit(_ info: UnsafeMutablePointer<aglm_component_info>?, _ version: UInt32) -> aglm_status {
    Boundary.run("aglm_component_info_init") {
        try StructLayout.initialize(info, "info", version: version, defaults: Defaults.componentInfo)
    }
}

/// aglm_function_entry_init.
@c(aglm_function_entry_init)
public func aglmFunctionEntryInit(_ entry: UnsafeMutablePointer<aglm_function_entry>?, _ version: UInt32) -> aglm_status {
    Boundary.run("aglm_function_entry_init") {
        try StructLayout.initialize(entry, "entry", version: version, defaults: Defaults.functionEntry)
    }
}
