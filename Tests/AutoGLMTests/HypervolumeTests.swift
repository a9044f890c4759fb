import AutoGLM
import AutoGLMCore
import XCTest

/// Hypervolume in 2, 3 and 4 dimensions against hand-computed values and brute-force counting of
/// dominated unit cells.
final class HypervolumeTests: XCTestCase {
    func testTwoDimensionsByHand() {
        // Boxes to (4, 4): the sweep adds 3·1 + 2·1 + 1·1.
        XCTAssertEqual(Hypervolume.compute([[1, 3], [2, 2], [3, 1]], reference: [4, 4]), 6)
        // A dominated point, a duplicate and points outside the reference change nothing.
        XCTAssertEqual(Hypervolume.compute([[1, 3], [2, 2], [3, 1], [2, 3], [1, 3], [5, 0], [0, 4]], reference: [4, 4]), 6)
        XCTAssertEqual(Hypervolume.compute([[0.5, 0.5]], reference: [1, 2]), 0.75)
        XCTAssertEqual(Hypervolume.compute([], reference: [1, 1]), 0)
    }

    func testThreeDimensionsByHand() {
        XCTAssertEqual(Hypervolume.compute([[1, 1, 1]], reference: [2, 2, 2]), 1)
        // Inclusion–exclusion: 4 + 2 − 1.
        XCTAssertEqual(Hypervolume.compute([[0, 0, 1], [1, 1, 0]], reference: [2, 2, 2]), 5)
        // Three boxes of 4, pairwise overlaps of 2, a common cube of 1: 12 − 6 + 1.
        XCTAssertEqual(Hypervolume.compute([[1, 0, 0], [0, 1, 0], [0, 0, 1]], reference: [2, 2, 2]), 7)
    }

    func testMatchesCountingDominatedCells() {
        var rng = RandomGenerator(seed: 17)
        for dims in 2...4 {
            for trial in 0..<60 {
                let side = 6, n = 1 + rng.below(dims == 4 ? 8 : 15)
                let points = (0..<n).map { _ in (0..<dims).map { _ in Double(rng.below(side)) } }
                let reference = [Double](repeating: Double(side), count: dims)
                XCTAssertEqual(Hypervolume.compute(points, reference: reference), Double(dominatedCells(points, side: side)),
                               "\(dims)-D set \(trial): \(points)")
            }
        }
    }

    /// Unit cells [c, c+1) of the grid {0 … side−1}^d that some point dominates (p ≤ c).
    private func dominatedCells(_ points: [[Double]], side: Int) -> Int {
        let dims = points[0].count
        var count = 0, cell = [Int](repeating: 0, count: dims)
        func visit(_ axis: Int) {
            if axis == dims {
                if points.contains(where: { p in zip(p, cell).allSatisfy { $0 <= Double($1) } }) { count += 1 }
                return
            }
            for v in 0..<side { cell[axis] = v; visit(axis + 1) }
        }
        visit(0)
        return count
    }

    func testRealValuedThreeDimensionsMatchesFourDimensionalWFGWithAFlatAxis() {
        // Adding a fourth objective at 0 with the reference at 1 keeps the volume, and sends the
        // computation through the general WFG recursion instead of the 3-D grid.
        var rng = RandomGenerator(seed: 5)
        for _ in 0..<30 {
            let points = (0..<(2 + rng.below(12))).map { _ in (0..<3).map { _ in rng.uniform() } }
            let three = Hypervolume.compute(points, reference: [1.1, 1.1, 1.1])
            let four = Hypervolume.compute(points.map { $0 + [0] }, reference: [1.1, 1.1, 1.1, 1])
            XCTAssertEqual(three, four, accuracy: 1e-12)
        }
    }
}
