import Foundation

/// Pareto dominance, fast non-dominated sorting and crowding distance over objective vectors in
/// the minimisation convention (`Objective.loss`), as NSGA-II defines them (Deb, Pratap, Agarwal
/// and Meyarivan, "A fast and elitist multiobjective genetic algorithm: NSGA-II", IEEE TEC
/// 6(2), 2002) and Optuna implements them (`optuna/samplers/nsgaii/
/// _elite_population_selection_strategy.py`: `_fast_non_dominated_sort`,
/// `_calc_crowding_distance`; `optuna/study/_multi_objective.py`: `_dominates`).
public enum ParetoRanking {
    /// Whether `a` dominates `b`: no worse in every objective and better in at least one.
    public static func dominates(_ a: [Double], _ b: [Double]) -> Bool {
        precondition(a.count == b.count, "objective vectors of different lengths")
        var better = false
        for (x, y) in zip(a, b) {
            if x > y { return false }
            if x < y { better = true }
        }
        return better
    }

    /// The fronts of `points`, best first: each a list of indices into `points`, ascending.
    /// Front 0 is the points nobody dominates; front k those dominated only by earlier fronts.
    public static func fronts(_ points: [[Double]]) -> [[Int]] {
        let n = points.count
        var dominatedCount = [Int](repeating: 0, count: n)
        var dominatesList = [[Int]](repeating: [], count: n)
        for p in 0..<n {
            for q in (p + 1)..<n {
                if dominates(points[p], points[q]) {
                    dominatesList[p].append(q); dominatedCount[q] += 1
                } else if dominates(points[q], points[p]) {
                    dominatesList[q].append(p); dominatedCount[p] += 1
                }
            }
        }
        var fronts: [[Int]] = []
        var current = (0..<n).filter { dominatedCount[$0] == 0 }
        while !current.isEmpty {
            fronts.append(current)
            var next: [Int] = []
            for p in current {
                for q in dominatesList[p] {
                    dominatedCount[q] -= 1
                    if dominatedCount[q] == 0 { next.append(q) }
                }
            }
            current = next.sorted()
        }
        return fronts
    }

    /// The rank of each point (its front's index).
    public static func ranks(_ points: [[Double]]) -> [Int] {
        var ranks = [Int](repeating: 0, count: points.count)
        for (rank, front) in fronts(points).enumerated() { for i in front { ranks[i] = rank } }
        return ranks
    }

    /// The indices of the non-dominated points, ascending.
    public static func paretoFront(_ points: [[Double]]) -> [Int] {
        fronts(points).first ?? []
    }

    /// The crowding distance of each point of one front: per objective, the gap between its two
    /// neighbours in that objective divided by the objective's range, summed over objectives.
    /// The extreme points of an objective get infinity. An objective where all points are equal
    /// adds nothing (Optuna's rule), so a lone point has distance 0 and a pair is all infinite.
    public static func crowdingDistances(_ points: [[Double]]) -> [Double] {
        let n = points.count
        guard n > 0 else { return [] }
        var distance = [Double](repeating: 0, count: n)
        for m in 0..<points[0].count {
            // Stable order by value, ties by index, so the result does not depend on the sort.
            let order = (0..<n).sorted { (points[$0][m], $0) < (points[$1][m], $1) }
            let lo = points[order[0]][m], hi = points[order[n - 1]][m]
            guard hi > lo else { continue }
            let width = hi - lo
            distance[order[0]] = .infinity
            distance[order[n - 1]] = .infinity
            if n > 2 {
                for k in 1..<(n - 1) { distance[order[k]] += (points[order[k + 1]][m] - points[order[k - 1]][m]) / width }
            }
        }
        return distance
    }
}
