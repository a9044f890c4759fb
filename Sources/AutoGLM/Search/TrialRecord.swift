import Foundation

/// Where a trial is in its life.
public enum TrialState: String, Sendable, Codable, CaseIterable {
    /// Proposed (its parameters fixed) and waiting to be run again: left by an interrupted search.
    case waiting
    /// A process is training it.
    case running
    /// Finished, with its objective values.
    case complete
    /// Stopped early by the pruner; its last intermediate value is kept.
    case pruned
    /// Training failed (the error is kept), or an objective could not be read or was not finite.
    case failed

    /// Whether the trial has ended (nothing will change it again).
    public var isFinished: Bool { self == .complete || self == .pruned || self == .failed }
}

/// A trial as samplers and pruners see it.
public struct TrialRecord: Sendable, Equatable {
    /// Its number in the study (0, 1, …), the order of proposal.
    public var number: Int
    /// Its state.
    public var state: TrialState
    /// Internal values of its active parameters, by parameter name.
    public var parameters: [String: Double]
    /// Objective values in objective units, in the study's objective order (complete trials).
    public var values: [Double]?
    /// Values of the first objective reported during training, by step.
    public var intermediate: [Int: Double]
    /// NSGA-II's generation of the trial (nil for other samplers).
    public var generation: Int?
    /// Values with which the trial completed successive-halving rungs, by rung.
    public var rungs: [Int: Double]

    /// A trial record.
    public init(number: Int, state: TrialState, parameters: [String: Double], values: [Double]? = nil,
                intermediate: [Int: Double] = [:], generation: Int? = nil, rungs: [Int: Double] = [:]) {
        self.number = number; self.state = state; self.parameters = parameters; self.values = values
        self.intermediate = intermediate; self.generation = generation; self.rungs = rungs
    }

    /// The step and value of the latest intermediate report.
    public var lastIntermediate: (step: Int, value: Double)? {
        intermediate.max { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
