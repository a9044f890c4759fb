import CAutoGLM

/// The defaults of every struct the program fills, as its `_init` function sets them and as the
/// library assumes for fields beyond a program's struct_size.
enum Defaults {
    /// aglm_session_options: everything empty, the bundled plugins searched.
    static var sessionOptions: aglm_session_options {
        var options = aglm_session_options()
        options.struct_size = MemoryLayout<aglm_session_options>.size
        options.bundled_plugins = 1
        options.data = Int32(AGLM_DATA_CONFIG.rawValue)
        return options
    }

    /// aglm_sample_options: 200 characters at temperature 0.8 over the whole vocabulary, seed 1337.
    static var sampleOptions: aglm_sample_options {
        var options = aglm_sample_options()
        options.struct_size = MemoryLayout<aglm_sample_options>.size
        options.tokens = 200
        options.temperature = 0.8
        options.top_k = 0
        options.seed = 1337
        return options
    }

    /// aglm_function_decl: nothing declared.
    static var functionDecl: aglm_function_decl {
        var decl = aglm_function_decl()
        decl.struct_size = MemoryLayout<aglm_function_decl>.size
        return decl
    }

    /// aglm_train_result: zeros.
    static var trainResult: aglm_train_result {
        var result = aglm_train_result()
        result.struct_size = MemoryLayout<aglm_train_result>.size
        return result
    }

    /// aglm_component_info: zeros and NULLs.
    static var componentInfo: aglm_component_info {
        var info = aglm_component_info()
        info.struct_size = MemoryLayout<aglm_component_info>.size
        return info
    }

    /// aglm_function_entry: NULLs.
    static var functionEntry: aglm_function_entry {
        var entry = aglm_function_entry()
        entry.struct_size = MemoryLayout<aglm_function_entry>.size
        return entry
    }
}
