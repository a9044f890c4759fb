import Foundation

/// The hypervolume of a set of objective vectors (minimisation convention): the measure of the
/// region they dominate, bounded by a reference point that every objective must beat. Points
/// that do not beat the reference in every objective dominate nothing inside the box and are
/// left out (Optuna refuses them instead).
///
/// Follows `optuna/_hypervolume/wfg.py`: two objectives by a sweep over the front sorted by the
/// first objective (`_compute_2d`), three exactly in O(n²) by a cumulative maximum over the grid
/// the points span (`_compute_3d`), more by the WFG algorithm's exclusive volumes (While,
/// Bradstreet and Barone, "A Fast Way of Calculating Exact Hypervolumes", IEEE TEC 16(1), 2012).
public enum Hypervolume {
    /// The hypervolume of `points` against `reference` (all vectors of one length ≥ 1).
    public static func compute(_ points: [[Double]], reference: [Double]) -> Double {
        let inside = points.filter { p in
            precondition(p.count == reference.count, "a point and the reference point differ in length")
            return zip(p, reference).allSatisfy { $0 < $1 }
        }
        guard !inside.isEmpty else { return 0 }
        let front = ParetoRanking.paretoFront(inside).map { inside[$0] }
        let sorted = unique(front).sorted { $0.lexicographicallyPrecedes($1) }
        switch reference.count {
        case 1: return reference[0] - sorted[0][0]
        case 2: return sweep2D(sorted, reference)
        case 3: return grid3D(sorted, reference)
        default: return wfg(sorted, reference)
        }
    }

    /// Two objectives: each point of the front, sorted by the first objective (so the second
    /// falls), adds the rectangle from it to the reference in x and to the previous point in y.
    static func sweep2D(_ front: [[Double]], _ r: [Double]) -> Double {
        var volume = 0.0, ceiling = r[1]
        for p in front {
            volume += (r[0] - p[0]) * (ceiling - p[1])
            ceiling = p[1]
        }
        return volume
    }

    /// Three objectives: on the grid of the points' x and y coordinates (x sorted), the
    /// dominated height above cell (i, j) is the largest r_z − z over points with x ≤ x_i and
    /// y ≤ y_j: a cumulative maximum along both axes. The volume sums height × cell area.
    static func grid3D(_ front: [[Double]], _ r: [Double]) -> Double {
        let n = front.count
        let yOrder = (0..<n).sorted { (front[$0][1], $0) < (front[$1][1], $1) }
        var height = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)  // [x rank][y rank]
        for (yRank, i) in yOrder.enumerated() { height[i][yRank] = r[2] - front[i][2] }
        for i in 0..<n {
            for j in 0..<n {
                if i > 0 { height[i][j] = max(height[i][j], height[i - 1][j]) }
                if j > 0 { height[i][j] = max(height[i][j], height[i][j - 1]) }
            }
        }
        var volume = 0.0
        for i in 0..<n {
            let dx = (i + 1 < n ? front[i + 1][0] : r[0]) - front[i][0]
            for j in 0..<n {
                let y = front[yOrder[j]][1], dy = (j + 1 < n ? front[yOrder[j + 1]][1] : r[1]) - y
                volume += height[i][j] * dx * dy
            }
        }
        return volume
    }

    /// Any number of objectives (WFG): the volume of a sorted front is the sum over its points of
    /// each point's exclusive volume: its box minus the volume of the later points limited to it.
    static func wfg(_ front: [[Double]], _ r: [Double]) -> Double {
        var volume = 0.0
        for (i, p) in front.enumerated() {
            let box = zip(r, p).reduce(1.0) { $0 * ($1.0 - $1.1) }
            let limited = front[(i + 1)...].map { q in zip(p, q).map { max($0, $1) } }
            let kept = ParetoRanking.paretoFront(limited).map { limited[$0] }
            volume += box - (kept.isEmpty ? 0 : wfg(unique(kept).sorted { $0.lexicographicallyPrecedes($1) }, r))
        }
        return volume
    }

    /// The distinct vectors of `points`.
    private static func unique(_ points: [[Double]]) -> [[Double]] {
        var seen = Set<[Double]>()
        return points.filter { seen.insert($0).inserted }
    }
}
