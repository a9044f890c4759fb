import Foundation

/// Whether ops record themselves on the autograd tape. Recording is per thread; it is on by
/// default and off inside `withNoGrad`.
public enum Autograd {
    private static let key = "autoglm.autograd.disabled"

    /// True when ops should record their backward closures.
    public static var isRecording: Bool {
        Thread.current.threadDictionary[key] == nil
    }

    /// Runs `body` without recording (evaluation, sampling, optimizer updates).
    public static func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
        let dict = Thread.current.threadDictionary
        let was = dict[key]
        dict[key] = true
        defer { dict[key] = was }
        return try body()
    }
}

extension Tensor {
    /// Makes `self` the output of an op: if recording and any input needs a gradient, remembers
    /// the inputs and the closure that maps `self.grad` onto them. Returns `self`.
    @discardableResult
    public func recorded(from inputs: [Tensor], _ backward: @escaping (Tensor) throws -> Void) -> Tensor {
        guard Autograd.isRecording, inputs.contains(where: { $0.requiresGrad }) else { return self }
        requiresGrad = true
        parents = inputs
        backwardFn = backward
        return self
    }

    /// Reverse-mode differentiation from this tensor. With no `seed`, the tensor must hold one
    /// element and its gradient is 1. Gradients accumulate into every reachable tensor that
    /// requires one; intermediate results drop their closures afterwards to free the graph.
    /// Throws when an op's backward fails (only plugin-supplied backward passes can).
    ///
    /// `gradientFinal`, when given, is called once for each leaf that requires a gradient (a
    /// parameter), as soon as the last op that uses it has run its closure: from then on this
    /// backward adds nothing more to the leaf's `grad`, which data-parallel training uses to start
    /// reducing it while the rest of the backward runs. Called on the calling thread.
    public func backward(seed: Tensor? = nil, gradientFinal: ((Tensor) -> Void)? = nil) throws {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative post-order DFS (graphs are deep: one node per op).
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            if !visited.insert(ObjectIdentifier(node)).inserted { continue }
            stack.append((node, true))
            for p in node.parents where p.requiresGrad && !visited.contains(ObjectIdentifier(p)) {
                stack.append((p, false))
            }
        }
        if let seed { accumulateGrad(seed) } else {
            precondition(count == 1, "backward() without a seed needs a one-element tensor, got \(shape)")
            accumulateGrad(Tensor(shape: shape, values: [1]))
        }
        let finalAt = gradientFinal.map { _ in Self.leavesByLastUse(order) } ?? [:]
        for (index, node) in order.reversed().enumerated() {
            if let fn = node.backwardFn, let g = node.grad {
                try fn(g)
                // Free the graph as we go; intermediate gradients are no longer needed.
                node.backwardFn = nil
                node.parents = []
                node.grad = nil
            }
            if let gradientFinal, let leaves = finalAt[index] { leaves.forEach(gradientFinal) }
        }
    }

    /// The leaves needing a gradient of the graph `order` (post-order), grouped by the position,
    /// in the backward's reversed order, of the last op that feeds them.
    private static func leavesByLastUse(_ order: [Tensor]) -> [Int: [Tensor]] {
        var last: [ObjectIdentifier: (Int, Tensor)] = [:]
        for (index, node) in order.reversed().enumerated() where node.backwardFn != nil {
            for p in node.parents where p.requiresGrad && p.backwardFn == nil { last[ObjectIdentifier(p)] = (index, p) }
        }
        var byIndex: [Int: [Tensor]] = [:]
        for (index, leaf) in last.values { byIndex[index, default: []].append(leaf) }
        return byIndex
    }
}

extension Tensor {
    /// Drops the graph behind this tensor without running its backward: every node reachable
    /// from here forgets its inputs and its backward closure, so the activations they held are
    /// freed. Needed where a recorded graph is thrown away (`Ops.checkpoint`): some closures hold
    /// their own output (a fused attention's views of it), a cycle only the backward, or this,
    /// breaks. The values of the tensors stay.
    func dropGraph() {
        var stack: [Tensor] = [self]
        var visited = Set<ObjectIdentifier>()
        while let node = stack.popLast() {
            guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
            stack.append(contentsOf: node.parents)
            node.parents = []
            node.backwardFn = nil
        }
    }
}
