import AutoGLMCore
import Foundation

/// One searched config key: its distribution and, for a component parameter under a searched
/// component choice, the condition under which it exists.
public struct SearchParameter: Sendable, Equatable {
    /// The searched parameter exists only in trials whose `key` takes one of `values`.
    public struct Condition: Sendable, Equatable {
        /// The controlling choice (`attention.name`).
        public var key: String
        /// The choices that declare this parameter.
        public var values: [String]
    }

    /// Its name in the study: the key, or `KEY@COMPONENT` for a parameter that `params: auto`
    /// expanded with bounds that differ between the components declaring it.
    public var name: String
    /// The dotted config key, passed to the trial as `--set key=value`.
    public var key: String
    /// Its values.
    public var distribution: SearchDistribution
    /// When it is active (nil: always).
    public var condition: Condition?
    /// Where it was declared: `space.yaml:4`, or `auto from space.yaml:2` for an expanded one.
    public var origin: String

    /// A searched key.
    public init(key: String, name: String? = nil, distribution: SearchDistribution, condition: Condition? = nil,
                origin: String) {
        self.key = key; self.name = name ?? key; self.distribution = distribution; self.condition = condition
        self.origin = origin
    }
}

/// What a search varies: searched keys in sampling order (a component choice before the
/// parameters it controls). A trial's parameters are the internal values of the active keys.
public struct SearchSpace: Sendable, Equatable {
    /// The searched keys, each controlling choice before its dependants.
    public var parameters: [SearchParameter]
    /// Parameters an `auto` entry could not search, with why (e.g. no declared upper bound).
    public var skipped: [String]

    /// A space of `parameters` (ordered so that conditions come first).
    public init(parameters: [SearchParameter], skipped: [String] = []) {
        self.parameters = parameters
        self.skipped = skipped
    }

    /// The parameter named `name`.
    public func parameter(_ name: String) -> SearchParameter? { parameters.first { $0.name == name } }

    /// Whether `parameter` is active given the values assigned so far (by parameter name).
    public func isActive(_ parameter: SearchParameter, given assigned: [String: Double]) -> Bool {
        guard let condition = parameter.condition else { return true }
        guard let controller = self.parameter(condition.key), let value = assigned[condition.key] else { return false }
        return condition.values.contains(controller.distribution.text(value))
    }

    /// Assigns every active parameter in order, asking `value` for each (with what is assigned
    /// so far): how every sampler walks a conditional space. Keyed by parameter name.
    public func assign(_ value: (SearchParameter, [String: Double]) -> Double) -> [String: Double] {
        var assigned: [String: Double] = [:]
        for p in parameters where isActive(p, given: assigned) { assigned[p.name] = value(p, assigned) }
        return assigned
    }

    /// A trial's values as `--set` options, in space order.
    public func overrides(_ assigned: [String: Double]) -> [String] {
        parameters.compactMap { p in assigned[p.name].map { "\(p.key)=\(p.distribution.text($0))" } }
    }

    /// One line per searched key, for the search's opening summary and `search show`.
    public var summary: [String] {
        parameters.map { p in
            "\(p.name): \(p.distribution)" + (p.condition.map { " (when \($0.key) is \($0.values.joined(separator: " or ")))" } ?? "")
        }
    }
}

/// Where a sampler's random numbers come from: one generator per trial, seeded by the study's
/// seed and the trial's number, so trial n gets the same draws whichever process proposes it,
/// and a resumed search proposes what an uninterrupted one would have.
enum TrialRandom {
    /// The generator of trial `number` of a study seeded with `seed`.
    static func generator(seed: UInt64, trial number: Int, stream: UInt64 = 0) -> RandomGenerator {
        RandomGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(number) &* 0xD1B5_4A32_D192_ED03 &+ stream)
    }
}
