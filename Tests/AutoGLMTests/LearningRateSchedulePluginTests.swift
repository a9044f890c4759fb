import AutoGLM
import Foundation
import XCTest

/// The bundled lr_schedules plugin, called through libffi: warmup_cosine, warmup_linear and
/// linear_warmup bit for bit against the host's LearningRateSchedule; every function against
/// its formula written out here in Swift (float64), at every step of several configurations.
final class LearningRateSchedulePluginTests: XCTestCase {
    private static let registry = PluginBuilder.bundledRegistry()

    /// (base_lr, min_lr, warmup, total): the recipe's, no warmup, min 0 with total = warmup,
    /// total < warmup, min above base, the shortest.
    private static let configurations: [(base: Double, min: Double, warmup: Int, total: Int)] = [
        (1e-3, 1e-4, 100, 2000), (6e-4, 6e-5, 0, 500), (3e-4, 0, 10, 10), (1e-2, 1e-3, 50, 30), (1e-3, 2e-3, 5, 60), (0.1, 0.1, 1, 2),
    ]

    private func binding(_ name: String) throws -> FunctionBinding {
        try XCTUnwrap(Self.registry.function(named: name), "lr_schedules did not register \(name)").binding
    }

    /// `name` evaluated at each step in `steps` with the other arguments from `rest`.
    private func values(_ name: String, steps: ClosedRange<Int>, _ rest: FunctionArgument...) throws -> [Double] {
        let f = try binding(name)
        return try steps.map { step in
            let result = try f.call([.int(Int64(step))] + rest)
            guard case .double(let lr) = result else { XCTFail("\(name) returned \(result)"); return .nan }
            return lr
        }
    }

    /// Steps (with both values) where `got` and `want` differ by more than `ulps` units in the
    /// last place of `scale`, the largest learning rate involved (0: must be identical). The
    /// schedules subtract terms of that size, so their rounding is relative to it; the plugin is
    /// compiled with -ffp-contract=fast, which may fuse a multiply-add the Swift formula rounds
    /// twice.
    private func mismatches(_ got: [Double], _ want: [Double], ulps: Double, scale: Double = 0) -> [String] {
        zip(got, want).enumerated().compactMap { step, pair in
            pair.0 == pair.1 || abs(pair.0 - pair.1) <= ulps * scale.ulp ? nil : "step \(step): \(pair.0) vs \(pair.1)"
        }
    }

    func testEverySchedulesIsRegisteredWithDocAndExample() {
        let names = ["constant", "inverse_sqrt", "linear_warmup", "one_cycle", "warmup_cosine", "warmup_linear", "warmup_stable_decay"]
        let found = Self.registry.allFunctions.filter { $0.file.hasSuffix("libaglm_lr_schedules.so") }
        XCTAssertEqual(found.map(\.name), names)
        for f in found {
            XCTAssertFalse(f.doc.isEmpty, f.name)
            XCTAssertFalse(f.exampleArguments.isEmpty, f.name)
            XCTAssertTrue(f.prototype.hasPrefix("double \(f.name)(int64_t step, double "), f.prototype)
        }
    }

    func testWarmupCosineLinearAndConstantAreBitForBitNanoGPTsFormula() throws {
        for c in Self.configurations {
            let steps = 0...(c.total + c.warmup + 50)
            for (name, shape) in [("warmup_cosine", NanoGPTSchedule.Shape.cosine), ("warmup_linear", .linear)] {
                let want = steps.map { NanoGPTSchedule.lr($0, peak: c.base, minLR: c.min, warmup: c.warmup, total: c.total, shape: shape) }
                let got = try values(name, steps: steps, .double(c.base), .int(Int64(c.warmup)), .int(Int64(c.total)), .double(c.min))
                XCTAssertEqual(mismatches(got, want, ulps: 0), [], "\(name) \(c)")
            }
            let want = steps.map { NanoGPTSchedule.lr($0, peak: c.base, minLR: c.min, warmup: c.warmup, total: c.total, shape: .constant) }
            let got = try values("linear_warmup", steps: steps, .double(c.base), .int(Int64(c.warmup)))
            XCTAssertEqual(mismatches(got, want, ulps: 0), [], "linear_warmup \(c)")
        }
    }

    /// nanoGPT's warmup, shared by the formulas below.
    private func warmup(_ step: Int, _ base: Double, _ warmup: Int) -> Double { base * Double(step + 1) / Double(warmup + 1) }

    func testConstantAndInverseSqrtFollowTheirFormulas() throws {
        for c in Self.configurations {
            let steps = 0...(c.total + 50)
            XCTAssertEqual(try values("constant", steps: steps, .double(c.base)), steps.map { _ in c.base })
            let got = try values("inverse_sqrt", steps: steps, .double(c.base), .int(Int64(c.warmup)))
            let want = steps.map { s in s < c.warmup ? warmup(s, c.base, c.warmup) : c.base * sqrt(Double(c.warmup + 1) / Double(s + 1)) }
            XCTAssertEqual(mismatches(got, want, ulps: 2, scale: c.base), [], "inverse_sqrt \(c)")
        }
        // The peak at step = warmup, half of it four times later (1/sqrt(4)).
        let f = try binding("inverse_sqrt")
        XCTAssertEqual(try f.call([.int(99), .double(1e-3), .int(99)]), .double(1e-3))
        XCTAssertEqual(try f.call([.int(399), .double(1e-3), .int(99)]), .double(5e-4))
    }

    func testWarmupStableDecayFollowsItsFormula() throws {
        for c in Self.configurations {
            for decay in [0, 1, (c.total - c.warmup) / 2, c.total - c.warmup] where decay >= 0 {
                let steps = 0...(c.total + 50)
                let got = try values("warmup_stable_decay", steps: steps, .double(c.base), .int(Int64(c.warmup)), .int(Int64(decay)),
                                     .int(Int64(c.total)), .double(c.min))
                let begin = c.total - decay
                let want = steps.map { s -> Double in
                    if s < c.warmup { return warmup(s, c.base, c.warmup) }
                    if s < begin { return c.base }
                    if s >= c.total { return c.min }
                    return c.base + (c.min - c.base) * Double(s - begin) / Double(decay)
                }
                XCTAssertEqual(mismatches(got, want, ulps: 2, scale: max(c.base, c.min)), [], "warmup_stable_decay decay \(decay) \(c)")
            }
        }
        // Stable until total - decay, halfway down in the middle of the cooldown, min_lr at total.
        let f = try binding("warmup_stable_decay")
        func at(_ step: Int64) throws -> FunctionResult { try f.call([.int(step), .double(1e-3), .int(100), .int(200), .int(2000), .double(1e-4)]) }
        XCTAssertEqual(try at(1799), .double(1e-3))
        XCTAssertEqual(try at(1800), .double(1e-3))
        XCTAssertEqual(try at(1900), .double(1e-3 + (1e-4 - 1e-3) * 0.5))
        XCTAssertEqual(try at(2000), .double(1e-4))
    }

    func testOneCycleFollowsTorchsOneCycleLR() throws {
        // torch.optim.lr_scheduler.OneCycleLR(anneal_strategy='cos', three_phase=False), written
        // out: two phases ending at pct_start*total - 1 and total - 1, each a cosine anneal
        // end + (start - end)/2 * (cos(pi*pct) + 1). torch stops at total - 1; the plugin then
        // holds the final value.
        func torch(_ step: Int, maxLR: Double, total: Int, pctStart: Double, div: Double, finalDiv: Double) -> Double {
            let initial = maxLR / div, minLR = initial / finalDiv
            let phases = [(end: pctStart * Double(total) - 1, start: initial, stop: maxLR),
                          (end: Double(total) - 1, start: maxLR, stop: minLR)]
            let i = phases.firstIndex { Double(step) <= $0.end } ?? phases.count - 1
            let startStep = i == 0 ? 0 : phases[i - 1].end
            let pct = Swift.min(1, (Double(step) - startStep) / (phases[i].end - startStep))
            return phases[i].stop + (phases[i].start - phases[i].stop) / 2.0 * (cos(.pi * pct) + 1)
        }
        for (maxLR, total, pctStart, div, finalDiv) in [(1e-3, 2000, 0.3, 25.0, 1e4), (0.1, 100, 0.25, 10.0, 100.0), (3e-4, 37, 0.5, 4.0, 1.0)] {
            let steps = 0...(total + 20)
            let got = try values("one_cycle", steps: steps, .double(maxLR), .int(Int64(total)), .double(pctStart), .double(div), .double(finalDiv))
            let want = steps.map { torch($0, maxLR: maxLR, total: total, pctStart: pctStart, div: div, finalDiv: finalDiv) }
            XCTAssertEqual(mismatches(got, want, ulps: 4, scale: maxLR), [], "one_cycle max \(maxLR) total \(total)")
            XCTAssertEqual(got[0], maxLR / div, accuracy: 4 * maxLR.ulp)  // starts at max_lr/div_factor
            let peak = pctStart * Double(total) - 1                  // reaches max_lr there
            if peak == peak.rounded() { XCTAssertEqual(got[Int(peak)], maxLR) }
            XCTAssertTrue(got.max()! <= maxLR && got.max()! > 0.99 * maxLR, "\(got.max()!)")
            XCTAssertEqual(got[total - 1], maxLR / div / finalDiv)   // ends at the minimum and stays
            XCTAssertEqual(got[total + 20], maxLR / div / finalDiv)
        }
    }
}
