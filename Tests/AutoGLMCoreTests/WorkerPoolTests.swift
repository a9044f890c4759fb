import AutoGLMCore
import Foundation
import XCTest

/// The worker pool behind `Kernels.parallelFor` and the GEMM panels: every task runs exactly
/// once per region, regions back to back, nested regions run inline, and regions started from
/// two threads at once both complete.
final class WorkerPoolTests: XCTestCase {
    private var before = 0
    override func setUp() { before = Kernels.threads; Kernels.setThreads(4) }
    override func tearDown() { Kernels.setThreads(before) }

    func testEveryTaskRunsOncePerRegion() {
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        defer { counts.deallocate() }
        for region in 0..<5_000 {
            let tasks = 1 + region % 4
            counts.initialize(repeating: 0, count: 4)
            Kernels.runTasks(tasks) { counts[$0] += 1 }   // each task owns its slot
            for t in 0..<4 { XCTAssertEqual(counts[t], t < tasks ? 1 : 0, "region \(region) task \(t)") }
        }
    }

    func testNestedRegionsRunInline() {
        let sums = UnsafeMutablePointer<Int>.allocate(capacity: 3)
        defer { sums.deallocate() }
        sums.initialize(repeating: 0, count: 3)
        Kernels.runTasks(3) { outer in
            Kernels.parallelFor(1_000, minChunk: 1) { range in
                for i in range { sums[outer] += i }   // inline: one thread per outer task
            }
        }
        for t in 0..<3 { XCTAssertEqual(sums[t], 499_500) }
    }

    func testRegionsFromTwoThreadsBothComplete() {
        let n = 200_000
        let a = UnsafeMutablePointer<Float>.allocate(capacity: n), b = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { a.deallocate(); b.deallocate() }
        a.initialize(repeating: 0, count: n); b.initialize(repeating: 0, count: n)
        let group = DispatchGroup()
        for target in [a, b] {
            let address = UInt(bitPattern: target)
            DispatchQueue.global().async(group: group) {
                let p = UnsafeMutablePointer<Float>(bitPattern: address)!
                for _ in 0..<200 {
                    Kernels.parallelFor(n, minChunk: 1_000) { range in for i in range { p[i] += 1 } }
                }
            }
        }
        group.wait()
        for i in stride(from: 0, to: n, by: 997) {
            XCTAssertEqual(a[i], 200); XCTAssertEqual(b[i], 200)
        }
    }
}
