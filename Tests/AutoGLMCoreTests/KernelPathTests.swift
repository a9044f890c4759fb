import AutoGLMCore
import CKernels
import XCTest

/// The element kernels compiled once per path: every path this CPU runs gives GELU and the sum
/// of squares of the reference (float64), and the AVX2 and AVX-512 paths give the same bits.
final class KernelPathTests: XCTestCase {
    func testThePathsOrderAndNameAsRunISADoes() {
        XCTAssertEqual(KernelPath.allCases.map(\.name), ["baseline", "avx2", "avx512", "avx512_bf16"])
        XCTAssertEqual(KernelPath(named: "avx2"), .avx2)
        XCTAssertNil(KernelPath(named: "sse"))
        XCTAssertLessThanOrEqual(KernelPath.preferred, KernelPath.detected)
        // A pool cannot be set above what the CPU runs.
        let pool = WorkerPool(threads: 1)
        pool.path = .avx512BF16
        XCTAssertEqual(pool.path, KernelPath.detected)
        pool.path = .baseline
        XCTAssertEqual(pool.run { Kernels.path }, .baseline)
    }

    func testElementKernelsOnEveryPath() {
        var rng = RandomGenerator(seed: 6)
        let n = 4099   // a vector tail on every width
        let x = (0..<n).map { _ in Float(rng.normal() * 3) }
        var results: [KernelPath: (gelu: [Float], slope: [Float], sum: Double)] = [:]
        for path in BFloat16Tests.paths {
            let table = ck_kernels_for(ck_isa(rawValue: UInt32(path.rawValue)))!.pointee
            var y = [Float](repeating: 0, count: n), y2 = y, slope = y
            table.gelu(x, &y, n)
            table.gelu_with_slope(x, &y2, &slope, n)
            let sum = table.sum_squares(x, n)
            for i in 0..<n {
                let v = Double(x[i]), cdf = 0.5 * erfc(-v / 2.0.squareRoot()), pdf = exp(-v * v / 2) / (2 * Double.pi).squareRoot()
                XCTAssertEqual(Double(y[i]), v * cdf, accuracy: 2e-6 * max(abs(v * cdf), 1e-3), "\(path.name) gelu(\(v))")
                XCTAssertEqual(y2[i], y[i], "\(path.name): gelu and gelu_with_slope agree")
                XCTAssertEqual(Double(slope[i]), cdf + v * pdf, accuracy: 2e-6, "\(path.name) gelu'(\(v))")
            }
            XCTAssertEqual(sum, x.reduce(0.0) { $0 + Double($1) * Double($1) }, accuracy: 1e-5 * sum)
            results[path] = (y, slope, sum)
        }
        if let avx2 = results[.avx2], let avx512 = results[.avx512] {
            XCTAssertEqual(avx2.gelu.map(\.bitPattern), avx512.gelu.map(\.bitPattern))
            XCTAssertEqual(avx2.slope.map(\.bitPattern), avx512.slope.map(\.bitPattern))
            XCTAssertEqual(avx2.sum.bitPattern, avx512.sum.bitPattern)
        }
    }
}
