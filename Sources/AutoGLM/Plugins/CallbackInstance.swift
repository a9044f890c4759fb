import CAutoGLM
import Foundation

/// Training-loop events delivered to callbacks (mirrors `aglm_event`).
public enum TrainingEvent: Int32, Sendable, CaseIterable {
    /// Before the first step.
    case trainBegin = 1
    /// After the last step or a stop.
    case trainEnd = 2
    /// Before each optimizer step.
    case stepBegin = 3
    /// After each optimizer step.
    case stepEnd = 4
    /// After an evaluation.
    case evaluate = 5
    /// After a checkpoint was written.
    case save = 6
}

/// What callbacks see of the trainer (mirrors `aglm_trainer_state`).
public struct TrainerSnapshot: Sendable {
    /// Optimizer steps completed.
    public var step = 0
    /// Configured number of steps.
    public var maxSteps = 0
    /// Passes over the training tokens.
    public var epoch = 0
    /// Training tokens consumed.
    public var tokensSeen = 0
    /// Mean training loss of the last step.
    public var loss = Double.nan
    /// Learning rate of the last step.
    public var lr = 0.0
    /// Global gradient norm of the last step, before clipping.
    public var gradNorm = Double.nan
    /// Wall time since training began.
    public var elapsedSeconds = 0.0
    /// Micro-batches per optimizer step.
    public var accumulationSteps = 1
    /// Latest evaluation metrics.
    public var metrics: [Metric] = []
    /// Directory of the run.
    public var runDir = ""
    /// Resident memory of the process in bytes.
    public var residentBytes = 0
    /// This process's data-parallel rank (0 alone).
    public var rank = 0
    /// Number of data-parallel processes (1 alone).
    public var worldSize = 1

    /// An empty snapshot.
    public init() {}
}

/// What callbacks asked for (mirrors `aglm_control`), combined across callbacks.
public struct TrainerControl: Sendable, Equatable {
    /// End training after this step.
    public var stop = false
    /// Write a checkpoint now.
    public var save = false
    /// Run evaluation now.
    public var evaluate = false
    /// Multiplier on the scheduled learning rate.
    public var lrScale = 1.0
    /// Micro-batches per optimizer step from the next step.
    public var accumulationSteps = 1
    /// The stop came from outside the callbacks (a signal, `Session.requestStop`, the progress
    /// receiver): the run then ends without a final evaluation, so that resuming it replays an
    /// uninterrupted run exactly. Host-side only (not in `aglm_control`).
    public var interrupted = false

    /// Default control: nothing requested.
    public init(lrScale: Double = 1, accumulationSteps: Int = 1) {
        self.lrScale = lrScale; self.accumulationSteps = accumulationSteps
    }
}

/// A callback component instance.
public final class CallbackInstance: ComponentInstance, @unchecked Sendable {
    private let vtable: aglm_callback_vtable

    /// Creates the callback.
    public init(registry: PluginRegistry, name: String, parameters: [String: ParameterValue]) throws {
        let component = try registry.require(.callback, name)
        vtable = component.vtable.load(as: aglm_callback_vtable.self)
        try super.init(component: component, parameters: parameters, info: nil, layout: nil)
    }

    /// Delivers `event`; merges the callback's requests into `control`.
    public func onEvent(_ event: TrainingEvent, state: TrainerSnapshot, control: inout TrainerControl) throws {
        let names = state.metrics.map { strdup($0.name)! }
        let runDir = strdup(state.runDir)!
        defer { names.forEach { free($0) }; free(runDir) }
        var metrics = zip(names, state.metrics).map {
            aglm_metric(struct_size: MemoryLayout<aglm_metric>.size, name: UnsafePointer($0), value: $1.value)
        }
        var c = aglm_control(struct_size: MemoryLayout<aglm_control>.size, stop: 0, save: 0, evaluate: 0,
                             lr_scale: control.lrScale, accumulation_steps: Int64(control.accumulationSteps))
        let ctx = context("on_event(\(event))")
        let status = metrics.withUnsafeMutableBufferPointer { m in
            var s = aglm_trainer_state(
                struct_size: MemoryLayout<aglm_trainer_state>.size, step: Int64(state.step), max_steps: Int64(state.maxSteps),
                epoch: Int64(state.epoch), tokens_seen: Int64(state.tokensSeen), loss: state.loss, lr: state.lr,
                grad_norm: state.gradNorm, elapsed_seconds: state.elapsedSeconds,
                accumulation_steps: Int64(state.accumulationSteps), metrics: UnsafePointer(m.baseAddress),
                metric_count: m.count, run_dir: UnsafePointer(runDir), resident_bytes: Int64(state.residentBytes),
                rank: Int32(state.rank), world_size: Int32(state.worldSize))
            return vtable.on_event!(instance, ctx.pointer, aglm_event(UInt32(event.rawValue)), &s, &c)
        }
        try ctx.check(status)
        guard c.lr_scale.isFinite, c.lr_scale > 0 else {
            throw ctx.error(status: AGLM_ERR_INVALID_ARGUMENT, reason: "control.lr_scale must be a positive finite number, got \(c.lr_scale)")
        }
        guard c.accumulation_steps >= 1, c.accumulation_steps <= 1 << 20 else {
            throw ctx.error(status: AGLM_ERR_INVALID_ARGUMENT, reason: "control.accumulation_steps must be >= 1, got \(c.accumulation_steps)")
        }
        control.stop = control.stop || c.stop != 0
        control.save = control.save || c.save != 0
        control.evaluate = control.evaluate || c.evaluate != 0
        control.lrScale = c.lr_scale
        control.accumulationSteps = Int(c.accumulation_steps)
    }
}
