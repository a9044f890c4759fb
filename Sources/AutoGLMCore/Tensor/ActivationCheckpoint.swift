import Foundation

extension Ops {
    /// `body(input)` with activation checkpointing (not a run checkpoint: nothing is written): the
    /// forward runs as usual (recorded, so with exactly the kernels of an unchecked forward), but
    /// only its output's values are kept; the graph inside, and the activations it holds, are
    /// dropped before this returns (`dropGraph`). The backward runs `body` again on the same
    /// input (under the same `Autocast` precision), backpropagates the output's gradient through
    /// that second graph, and hands the input its gradient. Gradients of `parameters` (leaves
    /// used by `body`) accumulate there, as without checkpointing. The recomputation gives the
    /// same values bit for bit, so the gradients are those of the unchecked graph (tested) when
    /// each value inside `body` reaches the input through at most two uses (IEEE addition
    /// commutes, but three or more partial gradients could be summed in another order). Costs
    /// one more forward of `body` per backward. `body` must compute from `input` and leaves (such
    /// as `parameters`) only: the graph it records is dropped, and dropping stops only at leaves.
    public static func checkpoint(_ input: Tensor, parameters: [Tensor],
                                  _ body: @escaping (Tensor) throws -> Tensor) throws -> Tensor {
        guard Autograd.isRecording, input.requiresGrad || parameters.contains(where: \.requiresGrad) else {
            return try body(input)
        }
        /// The input as a fresh leaf over the same values.
        func leaf() -> Tensor {
            let x = Tensor(sharing: input.storage, shape: input.shape)
            x.requiresGrad = input.requiresGrad
            return x
        }
        let first = try body(leaf())
        let out = Tensor(sharing: first.storage, shape: first.shape)
        first.dropGraph()   // the block's graph ends at the fresh leaf and the parameters
        let precision = Autocast.precision
        return out.recorded(from: [input] + parameters) { g in
            let x = leaf()
            let y = try Autocast.with(precision) { try body(x) }
            try y.backward(seed: g)
            if let gx = x.grad { input.adoptGrad(gx) }
        }
    }
}
