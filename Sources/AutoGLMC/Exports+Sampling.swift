import AutoGLM
import CAutoGLM

// Sampling text (autoglm.h documents the function).

/// aglm_session_sample.
@c(aglm_session_sample)
public func aglmSessionSample(_ session: OpaquePointer?, _ options: UnsafePointer<aglm_sample_options>?,
                              _ text: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> aglm_status {
    Boundary.session("aglm_session_sample", session) { box in
        let o = try StructLayout.read(options, "options", defaults: Defaults.sampleOptions)
        let out = try CArguments.out(text, "text")
        let prompt = try CArguments.string(o.prompt, "options->prompt")
        guard !prompt.isEmpty else { throw APIError.invalid("options->prompt is empty: give at least one character to continue") }
        guard o.tokens >= 0 else { throw APIError.invalid("options->tokens is \(o.tokens): give a count >= 0") }
        guard o.temperature > 0, o.temperature.isFinite else {
            throw APIError.invalid("options->temperature is \(o.temperature): give a finite value > 0 (e.g. 0.8)")
        }
        guard o.top_k >= 0 else { throw APIError.invalid("options->top_k is \(o.top_k): give 0 (all) or a count > 0") }
        let onText = o.on_text.map { Callbacks.text(CCallback(function: $0, userData: o.user_data)) }
        let sampled: String
        do {
            sampled = try box.session.sample(prompt: prompt, tokens: Int(o.tokens), temperature: o.temperature,
                                             topK: Int(o.top_k), seed: o.seed, onText: onText)
        } catch let error as DataError {
            throw APIError.invalid("options->prompt: \(error.message)")
        }
        box.sampleText.release()
        out.pointee = box.sampleText.string(sampled)
    }
}
