import AutoGLMCore
import CAutoGLM
import Foundation

/// An evaluator component instance: reset, feed batches, compute named metrics.
public final class EvaluatorInstance: ComponentInstance, @unchecked Sendable {
    private let vtable: aglm_evaluator_vtable

    /// Creates the evaluator.
    public init(registry: PluginRegistry, name: String, parameters: [String: ParameterValue]) throws {
        let component = try registry.require(.evaluator, name)
        vtable = component.vtable(as: aglm_evaluator_vtable.self)
        try super.init(component: component, parameters: parameters, info: nil, layout: nil)
    }

    /// Clears accumulated statistics.
    public func reset() throws {
        let ctx = context("reset")
        try ctx.check(vtable.reset!(instance, ctx.pointer))
    }

    /// Adds a batch: logits [n, vocab] and the n target ids.
    public func update(logits: Tensor, targets: [Int32]) throws {
        precondition(logits.count == targets.count * (logits.shape.last ?? 1))
        let rows = targets.count, vocab = logits.shape.last ?? 1
        let logitsView = TensorView(data: UnsafeMutableRawPointer(logits.data), shape: [rows, vocab])
        let ctx = context("update")
        var ids = targets
        let status = ids.withUnsafeMutableBytes { raw in
            let targetView = TensorView(data: raw.baseAddress!, shape: [rows], int32: true)
            return withExtendedLifetime((logitsView, targetView)) {
                vtable.update!(instance, ctx.pointer, logitsView.pointer, targetView.pointer)
            }
        }
        try ctx.check(status)
    }

    /// The metrics over everything fed since the last reset.
    public func compute() throws -> [(name: String, value: Double)] {
        let ctx = context("compute")
        ctx.acceptsMetrics = true
        try ctx.check(vtable.compute!(instance, ctx.pointer))
        return ctx.metrics
    }
}
