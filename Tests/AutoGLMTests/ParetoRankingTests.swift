import AutoGLM
import AutoGLMCore
import XCTest

/// Non-dominated sorting and crowding distance against hand-computed values and a brute-force
/// definition.
final class ParetoRankingTests: XCTestCase {
    func testDominance() {
        XCTAssertTrue(ParetoRanking.dominates([1, 2], [2, 2]))
        XCTAssertTrue(ParetoRanking.dominates([1, 1], [2, 2]))
        XCTAssertFalse(ParetoRanking.dominates([1, 2], [1, 2]), "equal points do not dominate each other")
        XCTAssertFalse(ParetoRanking.dominates([1, 3], [2, 2]))
        XCTAssertFalse(ParetoRanking.dominates([2, 2], [1, 3]))
    }

    func testFrontsOfAHandWorkedSet() {
        // (2,4) is dominated by (2,3); (4,4) by (2,4); (5,5) by (4,4).
        let points: [[Double]] = [[1, 5], [2, 3], [3, 1], [2, 4], [4, 4], [5, 5]]
        XCTAssertEqual(ParetoRanking.fronts(points), [[0, 1, 2], [3], [4], [5]])
        XCTAssertEqual(ParetoRanking.ranks(points), [0, 0, 0, 1, 2, 3])
        XCTAssertEqual(ParetoRanking.paretoFront(points), [0, 1, 2])
        XCTAssertEqual(ParetoRanking.fronts([]), [])
        XCTAssertEqual(ParetoRanking.fronts([[1, 1], [1, 1]]), [[0, 1]], "duplicates share a front")
    }

    func testFrontsMatchPeelingByDefinition() {
        var rng = RandomGenerator(seed: 3)
        for trial in 0..<200 {
            let n = 1 + rng.below(25), m = 2 + rng.below(3)
            // Small integer coordinates: many ties and duplicates.
            let points = (0..<n).map { _ in (0..<m).map { _ in Double(rng.below(5)) } }
            var remaining = Set(0..<n), expected: [[Int]] = []
            while !remaining.isEmpty {
                let front = remaining.filter { i in !remaining.contains { j in ParetoRanking.dominates(points[j], points[i]) } }
                expected.append(front.sorted())
                remaining.subtract(front)
            }
            XCTAssertEqual(ParetoRanking.fronts(points), expected, "set \(trial): \(points)")
        }
    }

    func testCrowdingDistanceByHand() {
        // Objective 0: the middle point's neighbours are 1 and 3 over a range of 2 → 1;
        // objective 1: 1 and 5 over 4 → 1. Extremes are infinite.
        XCTAssertEqual(ParetoRanking.crowdingDistances([[1, 5], [2, 3], [3, 1]]), [.infinity, 2, .infinity])
        // (1,2): 3/4 + 3/4 = 1.5; (3,1): 3/4 + 2/4 = 1.25.
        XCTAssertEqual(ParetoRanking.crowdingDistances([[0, 4], [1, 2], [3, 1], [4, 0]]), [.infinity, 1.5, 1.25, .infinity])
        // An objective on which all agree adds nothing (Optuna's rule); the other still counts.
        XCTAssertEqual(ParetoRanking.crowdingDistances([[1, 1], [1, 3], [1, 2]]), [.infinity, .infinity, 1])
        XCTAssertEqual(ParetoRanking.crowdingDistances([[1, 1]]), [0], "a lone point")
        XCTAssertEqual(ParetoRanking.crowdingDistances([[1, 2], [2, 1]]), [.infinity, .infinity])
    }
}
