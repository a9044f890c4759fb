import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// The ABI 1.2 host ops (slice, concat, sin, cos, sqrt, rsqrt, max, maximum, rotary) called
/// through the `aglm_host_api` table by a C plugin compiled at test time
/// (Fixtures/host_ops.c), against the same expression built from `Ops` directly: the values
/// and the gradients reaching q and k must be bit-identical (the table adds no arithmetic; the
/// ops' own gradient checks are in AutoGLMCoreTests). Then each op's argument checks, as the
/// plugin sees them: NULL with one message naming the op once.
final class HostOpsTableTests: XCTestCase {
    private static let registry = try! PluginBuilder.fixtureRegistry("host_ops.c")
    private let shape = [2, 2, 5, 6]

    private func instance(_ op: String, bad: Int = 0) throws -> AttentionInstance {
        try AttentionInstance(registry: Self.registry, name: "host_ops", parameters: ["op": .string(op), "bad": .number(Double(bad))],
                              nHead: 2, headDim: 6, blockSize: 8, layer: 0, nLayer: 1)
    }

    /// q, k, v and the upstream weights r, from a seed.
    private func inputs(seed: UInt64) -> (q: [Float], k: [Float], v: [Float], r: [Float]) {
        var rng = RandomGenerator(seed: seed)
        let n = shape.reduce(1, *)
        func random() -> [Float] { (0..<n).map { _ in Float(rng.normal()) } }
        return (random(), random(), random(), random())
    }

    /// out, dq, dk of sum(f(q, k) * r).
    private func evaluate(_ f: (Tensor, Tensor, Tensor) throws -> Tensor, seed: UInt64) throws -> [[Float]] {
        let x = inputs(seed: seed)
        let q = Tensor(shape: shape, values: x.q, requiresGrad: true)
        let k = Tensor(shape: shape, values: x.k, requiresGrad: true)
        let v = Tensor(shape: shape, values: x.v, requiresGrad: true)
        let out = try f(q, k, v)
        try Ops.sumAll(try Ops.mul(out, Tensor(shape: shape, values: x.r))).backward()
        let zeros = [Float](repeating: 0, count: q.count)
        return [out.values, q.grad?.values ?? zeros, k.grad?.values ?? zeros]
    }

    /// The fixture's expression for each `op`, written with Ops.
    private let direct: [String: (Tensor, Tensor) throws -> Tensor] = [
        "slice_concat": { q, k in try Ops.concat([try Ops.slice(k, dim: 2, start: 0, length: 1), try Ops.slice(q, dim: 2, start: 1, length: 4)], dim: 2) },
        "concat3": { q, _ in
            let first = try Ops.slice(q, dim: -1, start: 0, length: 1)
            return try Ops.concat([first, try Ops.slice(q, dim: -1, start: 0, length: 4), first], dim: -1)
        },
        "sin": { q, _ in Ops.sin(q) },
        "cos": { q, _ in Ops.cos(q) },
        "sqrt": { q, _ in Ops.sqrt(Ops.affine(try Ops.mul(q, q), scale: 1, shift: 0.5)) },
        "rsqrt": { q, _ in Ops.rsqrt(Ops.affine(try Ops.mul(q, q), scale: 1, shift: 0.5)) },
        "max_keep": { q, _ in try Ops.sub(q, try Ops.max(q, dim: -1, keepDim: true)) },
        "max_drop": { q, k in try Ops.add(q, try Ops.max(k, dim: 0, keepDim: false)) },
        "maximum": { q, k in try Ops.maximum(q, k) },
        "rotary": { q, _ in try Ops.rotary(q, positionOffset: 3, base: 100) },
    ]

    func testEveryOpThroughTheTableEqualsOpsBitForBit() throws {
        for (index, (op, expression)) in direct.sorted(by: { $0.key < $1.key }).enumerated() {
            let attention = try instance(op)
            let seed = UInt64(40 + index)
            let viaTable = try evaluate({ q, k, v in try attention.forward(q: q, k: k, v: v) }, seed: seed)
            let viaOps = try evaluate({ q, k, _ in try expression(q, k) }, seed: seed)
            for (what, a, b) in zip3(["out", "dq", "dk"], viaTable, viaOps) {
                XCTAssertEqual(a, b, "\(op): \(what) through the table differs from Ops")
                XCTAssertTrue(a.allSatisfy(\.isFinite), "\(op): \(what) not finite")
            }
            // The gradient reached the inputs the expression uses (not all zeros).
            XCTAssertTrue(viaTable[1].contains { $0 != 0 }, "\(op): no gradient reached q")
        }
        XCTAssertEqual(Set(direct.keys).count, 10)
    }

    func testInvalidArgumentsAreRefusedWithOneMessageNamingTheOp() throws {
        let expected: [(bad: Int, text: String)] = [
            (1, "slice: dim 7 out of range for a 4-D tensor"),
            (2, "slice: start 1 length 6 out of range for dim -1 of size 6"),
            (3, "concat: count must be 1...64 with a non-NULL parts array, got 0"),
            (4, "concat: count must be 1...64 with a non-NULL parts array, got 2"),
            (5, "concat: part 1 has shape [2, 2, 1, 6], incompatible with [2, 2, 5, 6] along dim -1"),
            (6, "max: dim 9 out of range for a 4-D tensor"),
            (7, "rotary: the feature dim D of [2, 2, 5, 5] must be even, got 5"),
            (8, "rotary: position_offset must be in 0...2^40, got -1"),
            (9, "rotary: base must be a finite number > 0, got 0.0"),
            (10, "sin: input 0 is NULL"),
            (11, "constant_new: only during an attention component's create"),
            (12, "matmul: inner dimensions differ"),
        ]
        let x = inputs(seed: 9)
        for (bad, text) in expected {
            let attention = try instance("sin", bad: bad)
            XCTAssertThrowsError(try attention.forward(q: Tensor(shape: shape, values: x.q), k: Tensor(shape: shape, values: x.k),
                                                       v: Tensor(shape: shape, values: x.v))) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains("component 'host_ops': forward: " + text), "case \(bad): \(message)")
                let op = String(text.prefix { $0 != ":" })
                XCTAssertFalse(message.contains("\(op): \(op):"), "case \(bad) names the op twice: \(message)")
            }
        }
    }
}

/// The triples (a[i], b[i], c[i]).
private func zip3<A, B, C>(_ a: [A], _ b: [B], _ c: [C]) -> [(A, B, C)] {
    (0..<min(a.count, b.count, c.count)).map { (a[$0], b[$0], c[$0]) }
}
