import AutoGLM
import CAutoGLM
import Foundation

/// A C function pointer with the program's user data. The program promises both stay valid
/// while the session lives and that the function may be called on the thread inside the
/// session, which is the only thread the library calls it on.
struct CCallback<Function>: @unchecked Sendable {
    /// The function.
    let function: Function
    /// Its first argument.
    let userData: UnsafeMutableRawPointer?
}

/// The session's callbacks as C calls.
enum Callbacks {
    /// A progress receiver calling `callback` with each record (any reply other than
    /// AGLM_CONTINUE stops training).
    static func progress(_ callback: CCallback<aglm_progress_fn>) -> (TrainingProgress) -> TrainingProgress.Reply {
        { progress in
            let names = LentMemory()
            let metrics = progress.metrics.map { metric in
                aglm_metric(struct_size: MemoryLayout<aglm_metric>.size, name: names.string(metric.name), value: metric.value)
            }
            return metrics.withUnsafeBufferPointer { buffer in
                var record = aglm_progress()
                record.struct_size = MemoryLayout<aglm_progress>.size
                record.kind = Int32(progress.kind == .step ? AGLM_PROGRESS_STEP.rawValue : AGLM_PROGRESS_EVALUATION.rawValue)
                record.logged = progress.logged ? 1 : 0
                record.step = Int64(progress.step)
                record.max_steps = Int64(progress.maxSteps)
                record.loss = progress.loss
                record.lr = progress.lr
                record.grad_norm = progress.gradNorm
                record.step_seconds = progress.stepSeconds
                record.tokens_per_second = progress.tokensPerSecond
                record.elapsed_seconds = progress.elapsed
                record.metrics = buffer.isEmpty ? nil : buffer.baseAddress
                record.metric_count = buffer.count
                return callback.function(callback.userData, &record) == AGLM_CONTINUE ? .proceed : .stop
            }
        }
    }

    /// A log sink calling `callback` with each line.
    static func log(_ callback: CCallback<aglm_log_fn>) -> HostLog.Sink {
        { level, message in
            message.withCString { callback.function(callback.userData, aglm_log_level(rawValue: UInt32(level.rawValue)), $0) }
        }
    }

    /// A receiver of sampled text calling `callback` with each piece (any reply other than
    /// AGLM_CONTINUE stops sampling).
    static func text(_ callback: CCallback<aglm_text_fn>) -> (String) -> Bool {
        { piece in piece.withCString { callback.function(callback.userData, $0) == AGLM_CONTINUE } }
    }
}
