import AutoGLMCore
import Foundation

/// NSGA-II for several objectives (Deb, Pratap, Agarwal and Meyarivan, IEEE TEC 6(2), 2002), in
/// the asynchronous form of Optuna's `NSGAIISampler` (`optuna/samplers/nsgaii/_sampler.py`):
/// every trial is tagged with a generation; generation g + 1 starts once `populationSize` trials
/// of generation g are complete, and its parents are the elite of generation g's complete trials
/// together with the previous elite, chosen by non-dominated sorting and, in the last front that
/// fits, by crowding distance. The first generation is random. A child is made, with probability
/// 0.9, by crossover of two parents each picked by binary tournament with Deb's crowded
/// comparison (the lower rank, then the larger crowding distance, wins; Optuna compares by
/// dominance only), else copied from one random member; then each parameter mutates with
/// probability 1 / parameters. A child that repeats a trial of the study is made again (up to 10
/// times; Optuna runs such repeats).
///
/// Crossover and mutation follow Deb's NSGA-II code (revision 1.1.6) as Optuna's `SBXCrossover`
/// and `PolynomialMutation` do: numbers by simulated binary crossover (η = 20, each gene from
/// the SBX children with probability 0.5, swapped between them with probability 0.5) on the
/// transformed axis (log for log scales) within its bounds, continuous ones mutated by
/// polynomial mutation (η = 20), integers and stepped numbers to a random grid value; choices by
/// uniform crossover (each from either parent with probability 0.5) and mutation to a random
/// choice. A parameter neither parent has (a component's, under a choice the parents did not
/// make) is drawn at random.
public struct NSGA2Sampler: SearchSampler {
    /// The study's seed.
    public let seed: UInt64
    /// The objectives, for their directions.
    public let objectives: [Objective]
    /// Complete trials per generation (Optuna's `population_size`, default 50 there).
    public let populationSize: Int
    /// Probability of crossover rather than copying a parent.
    public var crossoverProbability = 0.9
    /// SBX's and polynomial mutation's distribution index.
    public var eta = 20.0
    /// Times a child that repeats a trial of the study is made again.
    public var redraws = 10
    /// Elites already selected, by generation (Optuna caches them in the study the same way).
    private let cache = EliteCache()
    /// Hashes of the trials' parameters, so that finding a repeat is a scan of integers.
    private let repeats = FingerprintCache()

    /// An NSGA-II sampler.
    public init(seed: UInt64, objectives: [Objective], populationSize: Int) {
        precondition(populationSize >= 2, "an NSGA-II population needs two members at least")
        self.seed = seed
        self.objectives = objectives
        self.populationSize = populationSize
    }

    /// The parameters and generation of trial `number`.
    public func propose(number: Int, space: SearchSpace, history: [TrialRecord]) -> Proposal {
        var rng = TrialRandom.generator(seed: seed, trial: number)
        let (parentGeneration, parents) = parentPopulation(history)
        guard parentGeneration >= 0 else {
            return Proposal(parameters: space.assign { p, _ in p.distribution.random(&rng) }, generation: 0)
        }
        // A child that repeats a trial of the study (common on small discrete spaces, where
        // crossing equal parents gives them back) is made again, up to `redraws` times: a trial
        // costs a training run, and its result is already known.
        let fingerprints = repeats.fingerprints(history)
        func isKnown(_ p: [String: Double]) -> Bool {
            let h = p.hashValue
            return fingerprints.indices.contains { fingerprints[$0] == h && history[$0].parameters == p }
        }
        var parameters = child(of: parents, space: space, &rng)
        for _ in 0..<redraws where isKnown(parameters) { parameters = child(of: parents, space: space, &rng) }
        return Proposal(parameters: parameters, generation: parentGeneration + 1)
    }

    /// One child of the elite: crossover of two tournament winners (or a copy of one member),
    /// then mutation.
    private func child(of parents: [Member], space: SearchSpace, _ rng: inout RandomGenerator) -> [String: Double] {
        let first: TrialRecord, second: TrialRecord?
        if rng.uniform() < crossoverProbability {
            let a = tournament(parents, &rng)
            let rest = parents.filter { $0.trial.number != a.trial.number }
            (first, second) = (a.trial, tournament(rest.isEmpty ? parents : rest, &rng).trial)
        } else {
            (first, second) = (parents[rng.below(parents.count)].trial, nil)
        }
        let inherited = crossover(first, second, space: space, rng: &rng)
        let mutationProbability = 1 / Double(max(inherited.count, 1))
        return space.assign { p, _ in
            guard let value = inherited[p.name] else { return p.distribution.random(&rng) }
            guard rng.uniform() < mutationProbability else { return value }
            return mutate(value, p.distribution, &rng)
        }
    }

    /// A member of an elite: the trial, its front and its crowding distance within the front.
    struct Member: Sendable, Equatable {
        /// The trial.
        let trial: TrialRecord
        /// Its front (0: nobody dominates it).
        let rank: Int
        /// Its crowding distance in its front.
        let crowding: Double
    }

    /// The last generation whose population is complete, and its elite (Optuna's
    /// `_collect_parent_population`): (−1, []) before the first is complete.
    func parentPopulation(_ history: [TrialRecord]) -> (generation: Int, elite: [Member]) {
        // Indices only: a long history is walked once per proposal, and records are copied only
        // for a generation not selected before.
        var byGeneration: [Int: [Int]] = [:]
        for (i, t) in history.enumerated() where t.state == .complete && t.values != nil {
            if let g = t.generation { byGeneration[g, default: []].append(i) }
        }
        var generation = -1, elite: [Member] = []
        while let population = byGeneration[generation + 1], population.count >= populationSize {
            let numbers = (population.map { history[$0].number } + elite.map(\.trial.number)).sorted()
            if let known = cache.elite(generation: generation + 1, members: numbers) {
                elite = known
            } else {
                elite = select(population.map { history[$0] } + elite.map(\.trial))
                cache.store(generation: generation + 1, members: numbers, elite: elite)
            }
            generation += 1
        }
        return (generation, elite)
    }

    /// The best `populationSize` of `population`: whole fronts while they fit, then the last
    /// front's members by crowding distance (largest first; ties by trial number).
    func select(_ population: [TrialRecord]) -> [Member] {
        let members = population.sorted { $0.number < $1.number }
        let points = members.map(losses)
        var chosen: [Member] = []
        for (rank, front) in ParetoRanking.fronts(points).enumerated() {
            let distances = ParetoRanking.crowdingDistances(front.map { points[$0] })
            let order = front.indices.sorted { (distances[$0], -$0) > (distances[$1], -$1) }
            let taken = order.prefix(populationSize - chosen.count)
            chosen += taken.map { Member(trial: members[front[$0]], rank: rank, crowding: distances[$0]) }
            if chosen.count == populationSize { break }
        }
        return chosen
    }

    /// A trial's values in the minimisation convention.
    func losses(_ trial: TrialRecord) -> [Double] {
        zip(objectives, trial.values ?? []).map { $0.loss($1) }
    }

    /// Binary tournament with the crowded comparison: of two random members, the lower rank, then
    /// the larger crowding distance; the second on a tie.
    private func tournament(_ population: [Member], _ rng: inout RandomGenerator) -> Member {
        let a = population[rng.below(population.count)], b = population[rng.below(population.count)]
        return a.rank < b.rank || (a.rank == b.rank && a.crowding > b.crowding) ? a : b
    }

    /// The child's inherited values, walking the space in order so that its choices decide
    /// which parameters exist: numeric ones by SBX when both parents have them, choices by
    /// uniform crossover; a parameter only one parent has is taken from it.
    private func crossover(_ a: TrialRecord, _ b: TrialRecord?, space: SearchSpace,
                           rng: inout RandomGenerator) -> [String: Double] {
        guard let b else { return a.parameters }
        let takeSecondChild = rng.uniform() < 0.5
        var child: [String: Double] = [:]
        for p in space.parameters where space.isActive(p, given: child) {
            switch (a.parameters[p.name], b.parameters[p.name]) {
            case let (x?, y?):
                if p.distribution.isChoice {
                    child[p.name] = rng.uniform() < 0.5 ? x : y
                } else {
                    child[p.name] = simulatedBinaryCrossover(x, y, p.distribution, takeSecond: takeSecondChild, &rng)
                }
            case let (x?, nil), let (nil, x?): child[p.name] = x
            case (nil, nil): break
            }
        }
        return child
    }

    /// One gene of SBX's children on the transformed axis, kept within the bounds (Optuna's
    /// `SBXCrossover.crossover`, equations (3)–(5) of Raghuwanshi's summary of Deb and Agrawal).
    private func simulatedBinaryCrossover(_ x: Double, _ y: Double, _ distribution: SearchDistribution,
                                          takeSecond: Bool, _ rng: inout RandomGenerator) -> Double {
        let (lower, upper) = distribution.transformedBounds
        let p = distribution.transform(x), q = distribution.transform(y)
        let lo = min(p, q), hi = max(p, q), diff = max(hi - lo, 1e-10)
        func spread(_ beta: Double, _ u: Double) -> Double {
            let alpha = 2 - pow(beta, -(eta + 1))
            return u > 1 / alpha ? pow(1 / (2 - u * alpha), 1 / (eta + 1)) : pow(u * alpha, 1 / (eta + 1))
        }
        let u = rng.uniform()
        let c1 = 0.5 * ((lo + hi) - spread(1 + 2 * (lo - lower) / diff, u) * diff)
        let c2 = 0.5 * ((lo + hi) + spread(1 + 2 * (upper - hi) / diff, u) * diff)
        var genes = rng.uniform() < 0.5 ? (c1, c2) : (p, q)
        if rng.uniform() < 0.5 { genes = (genes.1, genes.0) }
        let t = takeSecond ? genes.1 : genes.0
        return distribution.untransform(min(max(t, lower), upper))
    }

    /// Mutation: a random value for a choice or a grid (integers, stepped numbers: polynomial
    /// mutation with η = 20 moves too little to leave a grid point), polynomial mutation on the
    /// transformed axis for a continuous number (Optuna's `PolynomialMutation.mutation`).
    private func mutate(_ value: Double, _ distribution: SearchDistribution, _ rng: inout RandomGenerator) -> Double {
        switch distribution {
        case .choice, .int, .float(_, _, _, .some): return distribution.random(&rng)
        case .float: break
        }
        let (lower, upper) = distribution.transformedBounds
        let width = upper - lower, x = distribution.transform(value)
        guard width > 0 else { return value }
        let u = rng.uniform(), power = 1 / (eta + 1)
        let delta: Double
        if u <= 0.5 {
            let v = 2 * u + (1 - 2 * u) * pow(1 - (x - lower) / width, eta + 1)
            delta = pow(v, power) - 1
        } else {
            let v = 2 * (1 - u) + 2 * (u - 0.5) * pow(1 - (upper - x) / width, eta + 1)
            delta = 1 - pow(v, power)
        }
        return distribution.untransform(min(max(x + delta * width, lower), upper))
    }
}

/// The elite NSGA-II selected from each generation's members, so that a proposal does not sort
/// every earlier generation again. Thread-safe.
final class EliteCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [Int: (members: [Int], elite: [NSGA2Sampler.Member])] = [:]

    /// The elite of `generation` if it was selected from exactly `members` (trial numbers).
    func elite(generation: Int, members: [Int]) -> [NSGA2Sampler.Member]? {
        lock.withLock { entries[generation].flatMap { $0.members == members ? $0.elite : nil } }
    }

    /// Remembers the elite selected from `members` for `generation`.
    func store(generation: Int, members: [Int], elite: [NSGA2Sampler.Member]) {
        lock.withLock { entries[generation] = (members, elite) }
    }
}

/// The hash of each trial's parameters, by trial number, computed once (a trial keeps its
/// parameters). Thread-safe.
final class FingerprintCache: @unchecked Sendable {
    private let lock = NSLock()
    private var byNumber: [Int: Int] = [:]

    /// The hashes of `history`'s parameters, in its order.
    func fingerprints(_ history: [TrialRecord]) -> [Int] {
        lock.withLock {
            history.map { t in
                if let known = byNumber[t.number] { return known }
                let h = t.parameters.hashValue
                byNumber[t.number] = h
                return h
            }
        }
    }
}
