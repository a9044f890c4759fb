import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// The bundled optimizer library (sgd, adam, rmsprop, adagrad, lion, lamb, adafactor, muon)
/// against float64 references written from the published update equations: parameter values
/// after every step, the exported state buffers (names, shapes, values), option variants,
/// refused parameter combinations, and a short training run per optimizer.
final class OptimizerPluginTests: XCTestCase {
    private static let registry = PluginBuilder.bundledRegistry()

    // MARK: - Harness

    /// One parameter of a test model: its name, shape and (optionally) initial values.
    private struct ParamSpec {
        let name: String
        let shape: [Int]
        var zeros = false
        var count: Int { shape.reduce(1, *) }
    }

    /// A float64 reference of one optimizer for one parameter tensor.
    private protocol ParamReference {
        /// One update at 1-based step `t` with learning rate `lr`.
        mutating func step(_ p: inout [Double], _ g: [Double], lr: Double, t: Int)
        /// The state buffers the plugin should export for this parameter, by name.
        var states: [String: [Double]] { get }
    }

    /// Every declared parameter of each optimizer with its documented default: create() gets
    /// complete dictionaries, as the config layer would hand them over.
    private static let defaults: [String: [String: ParameterValue]] = [
        "sgd": ["momentum": .number(0), "dampening": .number(0), "nesterov": .number(0), "weight_decay": .number(0)],
        "adam": ["betas": .list([0.9, 0.999]), "eps": .number(1e-8), "weight_decay": .number(0), "amsgrad": .number(0)],
        "rmsprop": ["alpha": .number(0.99), "eps": .number(1e-8), "weight_decay": .number(0), "momentum": .number(0),
                    "centered": .number(0)],
        "adagrad": ["lr_decay": .number(0), "weight_decay": .number(0), "initial_accumulator_value": .number(0),
                    "eps": .number(1e-10)],
        "lion": ["betas": .list([0.9, 0.99]), "weight_decay": .number(0)],
        "lamb": ["betas": .list([0.9, 0.999]), "eps": .number(1e-6), "weight_decay": .number(0.01)],
        "adafactor": ["eps1": .number(1e-30), "eps2": .number(1e-3), "clip_threshold": .number(1), "decay_rate": .number(-0.8),
                      "beta1": .number(0), "weight_decay": .number(0), "scale_parameter": .number(0),
                      "relative_step": .number(0), "warmup_init": .number(0)],
        "muon": ["momentum": .number(0.95), "nesterov": .number(1), "ns_steps": .number(5), "weight_decay": .number(0),
                 "adamw_betas": .list([0.9, 0.95]), "adamw_eps": .number(1e-10), "adamw_lr_ratio": .number(0.015)],
    ]

    /// The complete parameter dictionary of `optimizer` with `overrides` applied.
    private func params(_ optimizer: String, _ overrides: [String: ParameterValue] = [:]) -> [String: ParameterValue] {
        var p = Self.defaults[optimizer]!
        for (k, v) in overrides {
            XCTAssertNotNil(p[k], "\(optimizer) has no parameter \(k)")
            p[k] = v
        }
        return p
    }

    private func number(_ p: [String: ParameterValue], _ key: String) -> Double {
        if case .number(let d) = p[key]! { return d }
        XCTFail("\(key) is not a number"); return .nan
    }

    private func pair(_ p: [String: ParameterValue], _ key: String) -> (Double, Double) {
        if case .list(let l) = p[key]!, l.count == 2 { return (l[0], l[1]) }
        XCTFail("\(key) is not a 2-item list"); return (.nan, .nan)
    }

    /// Runs `steps` updates of `optimizer` on `specs` with random gradients and checks, after each
    /// step, every parameter against its reference, then every exported state buffer (names and
    /// values). Returns the instance for further checks.
    @discardableResult
    private func check(_ optimizer: String, _ parameters: [String: ParameterValue], _ specs: [ParamSpec],
                       steps: Int = 4, lr: (Int) -> Double = { 0.01 * Double($0) }, label: String,
                       atol: Double = 1e-6, rtol: Double = 1e-5,
                       roles: [ParameterRole] = [], reference: (ParamSpec, Bool) -> any ParamReference,
                       file: StaticString = #filePath, line: UInt = #line) throws -> OptimizerInstance {
        var rng = RandomGenerator(seed: UInt64(label.utf8.reduce(7) { $0 &* 31 &+ UInt64($1) }))
        let tensors = specs.map { spec -> Tensor in
            let values = spec.zeros ? [Float](repeating: 0, count: spec.count) : (0..<spec.count).map { _ in Float(rng.normal()) }
            let t = Tensor(shape: spec.shape, values: values, requiresGrad: true)
            t.name = spec.name
            return t
        }
        let opt = try OptimizerInstance(registry: Self.registry, name: optimizer, parameters: parameters, modelParameters: tensors,
                                        roles: roles)
        var refs = specs.map { reference($0, $0.shape.count >= 2) }
        var refValues = tensors.map { $0.values.map(Double.init) }
        for t in 1...steps {
            var grads: [[Float]] = []
            for (i, spec) in specs.enumerated() {
                let scale = t == 3 && i == specs.count - 1 ? 0.01 : 1.0  // one small-gradient step
                let g = (0..<spec.count).map { _ in Float(rng.normal() * scale) }
                tensors[i].grad = Tensor(shape: spec.shape, values: g)
                grads.append(g)
            }
            try opt.step(lr: lr(t), step: t)
            for i in specs.indices {
                refs[i].step(&refValues[i], grads[i].map(Double.init), lr: lr(t), t: t)
                XCTAssertLessThanOrEqual(toleranceRatio(tensors[i].values, refValues[i], atol: atol, rtol: rtol), 1,
                                         "\(label): \(specs[i].name) after step \(t): \(tensors[i].values) vs \(refValues[i])",
                                         file: file, line: line)
            }
        }
        var expected: [String: [Double]] = [:]
        for (spec, ref) in zip(specs, refs) {
            for (name, values) in ref.states { expected["\(spec.name)/\(name)"] = values }
            // The host's update counter: every parameter had a gradient at every step.
            expected["\(spec.name)/_step"] = [0, Double(steps)]
        }
        let exported = opt.stateTensors
        XCTAssertEqual(exported.map(\.name).sorted(), expected.keys.sorted(), "\(label): state buffer names", file: file, line: line)
        for (name, tensor) in exported {
            guard let want = expected[name] else { continue }
            XCTAssertEqual(tensor.count, want.count, "\(label): \(name) size", file: file, line: line)
            XCTAssertLessThanOrEqual(toleranceRatio(tensor.values, want, atol: atol, rtol: rtol), 1,
                                     "\(label): state \(name): \(tensor.values) vs \(want)", file: file, line: line)
        }
        return opt
    }

    /// The error message of a create() that must fail.
    private func createError(_ optimizer: String, _ parameters: [String: ParameterValue]) -> String {
        let w = Tensor(zeros: [2, 2], requiresGrad: true)
        w.name = "w"
        do {
            _ = try OptimizerInstance(registry: Self.registry, name: optimizer, parameters: parameters, modelParameters: [w])
            XCTFail("\(optimizer) accepted \(parameters)")
            return ""
        } catch {
            return "\(error)"
        }
    }

    // MARK: - Schemas

    func testSchemasDeclareEveryParameterWithItsDocumentedDefault() throws {
        for (name, documented) in Self.defaults {
            let info = try XCTUnwrap(Self.registry.info(named: name).first { $0.kind == .optimizer }, name)
            XCTAssertEqual(info.version, "1.0.0", name)
            XCTAssertFalse(info.summary.isEmpty || info.summary.contains("\n"), name)
            XCTAssertEqual(Set(info.parameters.map(\.name)), Set(documented.keys), "\(name): declared parameters")
            for spec in info.parameters {
                XCTAssertFalse(spec.doc.isEmpty, "\(name).\(spec.name) has no doc")
                XCTAssertEqual(spec.defaultValue, documented[spec.name], "\(name).\(spec.name) default")
                if spec.kind == .float || spec.kind == .int {
                    XCTAssertTrue(spec.min.isFinite, "\(name).\(spec.name) needs a lower bound")
                }
            }
        }
    }

    // MARK: - SGD (torch.optim.SGD)

    /// torch.optim.SGD: d = g + wd p; b = d (first) or m b + (1 - damp) d; d = d + m b (nesterov) or b; p -= lr d.
    private struct SGDReference: ParamReference {
        let momentum, dampening, wd: Double, nesterov, decay: Bool
        var buf: [Double]? = nil
        mutating func step(_ p: inout [Double], _ g: [Double], lr: Double, t: Int) {
            var d = g.indices.map { g[$0] + (decay ? wd * p[$0] : 0) }
            if momentum != 0 {
                let b = buf.map { old in d.indices.map { momentum * old[$0] + (1 - dampening) * d[$0] } } ?? d
                buf = b
                d = nesterov ? d.indices.map { d[$0] + momentum * b[$0] } : b
            }
            for i in p.indices { p[i] -= lr * d[i] }
        }
        var states: [String: [Double]] { buf.map { ["momentum_buffer": $0] } ?? [:] }
    }

    private let twoParams = [ParamSpec(name: "w", shape: [2, 3]), ParamSpec(name: "b", shape: [3])]

    func testSGDFollowsTorchEquationsWithMomentumDampeningAndNesterov() throws {
        let variants: [(String, [String: ParameterValue])] = [
            ("plain", ["weight_decay": .number(0.1)]),
            ("momentum+dampening", ["momentum": .number(0.9), "dampening": .number(0.25), "weight_decay": .number(0.1)]),
            ("nesterov", ["momentum": .number(0.8), "nesterov": .number(1), "weight_decay": .number(0.05)]),
        ]
        for (label, overrides) in variants {
            let p = params("sgd", overrides)
            try check("sgd", p, twoParams, label: "sgd \(label)") { _, decay in
                SGDReference(momentum: self.number(p, "momentum"), dampening: self.number(p, "dampening"),
                             wd: self.number(p, "weight_decay"), nesterov: self.number(p, "nesterov") != 0, decay: decay)
            }
        }
    }

    func testInvalidParameterCombinationsAreRefusedWithAMessage() throws {
        let noMomentum = createError("sgd", params("sgd", ["nesterov": .number(1)]))
        XCTAssertTrue(noMomentum.contains("sgd") && noMomentum.contains("create") &&
                      noMomentum.contains("nesterov requires momentum > 0 and dampening = 0"), noMomentum)
        let dampened = createError("sgd", params("sgd", ["nesterov": .number(1), "momentum": .number(0.9), "dampening": .number(0.1)]))
        XCTAssertTrue(dampened.contains("nesterov requires") && dampened.contains("dampening 0.1"), dampened)
        let warmup = createError("adafactor", params("adafactor", ["warmup_init": .number(1)]))
        XCTAssertTrue(warmup.contains("adafactor") && warmup.contains("warmup_init requires relative_step"), warmup)
        // Bounds are the schema's now (exclusive ones included, ABI 1.2): the host refuses a
        // beta of 1 before create runs, naming the key.
        let lionBetas = try XCTUnwrap(Self.registry.info(named: "lion").first?.parameters.first { $0.name == "betas" })
        XCTAssertThrowsError(try lionBetas.validate(.list([0.9, 1.0]), key: "optimizer.betas", origin: "run.yaml")) { error in
            XCTAssertEqual("\(error)", "run.yaml: optimizer.betas[1] must be in [0, 1), got 1")
        }
    }

    // MARK: - Adam (torch.optim.Adam, coupled L2)

    /// Kingma & Ba with torch's coupled L2 (g += wd p) and AMSGrad.
    private struct AdamReference: ParamReference {
        let beta1, beta2, eps, wd: Double, amsgrad, decay: Bool
        var m: [Double], v: [Double], vmax: [Double]
        init(n: Int, beta1: Double, beta2: Double, eps: Double, wd: Double, amsgrad: Bool, decay: Bool) {
            self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.wd = wd; self.amsgrad = amsgrad; self.decay = decay
            m = .init(repeating: 0, count: n); v = m; vmax = m
        }
        mutating func step(_ p: inout [Double], _ g: [Double], lr: Double, t: Int) {
            let bc1 = 1 - pow(beta1, Double(t)), bc2 = 1 - pow(beta2, Double(t))
            for i in p.indices {
                let gi = g[i] + (decay ? wd * p[i] : 0)
                m[i] = beta1 * m[i] + (1 - beta1) * gi
                v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
                vmax[i] = max(vmax[i], v[i])
                let vhat = (amsgrad ? vmax[i] : v[i]) / bc2
                p[i] -= lr * (m[i] / bc1) / (vhat.squareRoot() + eps)
            }
        }
        var states: [String: [Double]] {
            amsgrad ? ["exp_avg": m, "exp_avg_sq": v, "max_exp_avg_sq": vmax] : ["exp_avg": m, "exp_avg_sq": v]
        }
    }

    func testAdamFollowsTorchEquationsWithCoupledDecayAndAMSGrad() throws {
        for amsgrad in [false, true] {
            let p = params("adam", ["betas": .list([0.9, 0.99]), "weight_decay": .number(0.1), "amsgrad": .number(amsgrad ? 1 : 0)])
            try check("adam", p, twoParams, label: "adam amsgrad=\(amsgrad)") { spec, decay in
                AdamReference(n: spec.count, beta1: 0.9, beta2: 0.99, eps: 1e-8, wd: 0.1, amsgrad: amsgrad, decay: decay)
            }
        }
    }

    // MARK: - RMSprop (torch.optim.RMSprop)

    /// Hinton's RMSprop, Graves' centered variant, with torch's momentum and coupled L2.
    private struct RMSpropReference: ParamReference {
        let alpha, eps, wd, momentum: Double, centered, decay: Bool
        var sq: [Double], ga: [Double], buf: [Double]
        init(n: Int, alpha: Double, eps: Double, wd: Double, momentum: Double, centered: Bool, decay: Bool) {
            self.alpha = alpha; self.eps = eps; self.wd = wd; self.momentum = momentum; self.centered = centered; self.decay = decay
            sq = .init(repeating: 0, count: n); ga = sq; buf = sq
        }
        mutating func step(_ p: inout [Double], _ g: [Double], lr: Double, t: Int) {
            for i in p.indices {
                let gi = g[i] + (decay ? wd * p[i] : 0)
                sq[i] = alpha * sq[i] + (1 - alpha) * gi * gi
                var denom = sq[i]
                if centered {
                    ga[i] = alpha * ga[i] + (1 - alpha) * gi
                    denom -= ga[i] * ga[i]
                }
                let avg = denom.squareRoot() + eps
                if momentum > 0 {
                    buf[i] = momentum * buf[i] + gi / avg
                    p[i] -= lr * buf[i]
                } else {
                    p[i] -= lr * gi / avg
                }
            }
        }
        var states: [String: [Double]] {
            var s = ["square_avg": sq]
            if momentum > 0 { s["momentum_buffer"] = buf }
            if centered { s["grad_avg"] = ga }
            return s
        }
    }

    func testRMSpropFollowsTorchEquationsPlainCenteredAndWithMomentum() throws {
        for (momentum, centered) in [(0.0, false), (0.9, false), (0.0, true), (0.5, true)] {
            let p = params("rmsprop", ["alpha": .number(0.9), "weight_decay": .number(0.1), "momentum": .number(momentum),
                                       "centered": .number(centered ? 1 : 0)])
            try check("rmsprop", p, twoParams, label: "rmsprop momentum=\(momentum) centered=\(centered)") { spec, decay in
                RMSpropReference(n: spec.count, alpha: 0.9, eps: 1e-8, wd: 0.1, momentum: momentum, centered: centered, decay: decay)
            }
        }
    }

    // MARK: - Adagrad (torch.optim.Adagrad)

    /// Duchi et al.'s diagonal Adagrad with torch's lr decay, L2 and initial accumulator.
    private struct AdagradReference: ParamReference {
        let lrDecay, wd, eps: Double, decay: Bool
        var sum: [Double]
        mutating func step(_ p: inout [Double], _ g: [Double], lr: Double, t: Int) {
            let clr = lr / (1 + Double(t - 1) * lrDecay)
            for i in p.indices {
                let gi = g[i] + (decay ? wd * p[i] : 0)
                sum[i] += gi * gi
                p[i] -= clr * gi / (sum[i].squareRoot() + eps)
            }
        }
        var states: [String: [Double]] { ["sum": sum] }
    }

    func testAdagradFollowsTorchEquationsWithLrDecayAndInitialAccumulator() throws {
        for (lrDecay, initial) in [(0.0, 0.0), (0.5, 0.3)] {
            let p = params("adagrad", ["lr_decay": .number(lrDecay), "weight_decay": .number(0.1),
                                       "initial_accumulator_value": .number(initial)])
            try check("adagrad", p, twoParams, lr: { _ in 0.1 }, label: "adagrad lr_decay=\(lrDecay) init=\(initial)") { spec, decay in
                AdagradReference(lrDecay: lrDecay, wd: 0.1, eps: 1e-10, decay: decay, sum: .init(repeating: initial, count: spec.count))
            }
        }
    }

    // MARK: - Lion (Chen et al. 2023)

    /// Lion: p -= lr (sign(b1 m + (1-b1) g) + wd p); m = b2 m + (1-b2) g.
    private struct LionReference: ParamReference {
        let beta1, beta2, wd: Double, decay: Bool
        var m: [Double]
        mutating func step(_ p: inout [Double], _ g: [Double], lr: Double, t: Int) {
            for i in p.indices {
                let c = beta1 * m[i] + (1 - beta1) * g[i]
                let sign: Double = c > 0 ? 1 : (c < 0 ? -1 : 0)
                p[i] -= lr * (sign + (decay ? wd * p[i] : 0))
                m[i] = beta2 * m[i] + (1 - beta2) * g[i]
            }
        }
        var states: [String: [Double]] { ["exp_avg": m] }
    }

    func testLionFollowsThePaperWithDecoupledDecay() throws {
        for (b1, b2, wd) in [(0.9, 0.99, 0.0), (0.8, 0.95, 0.5)] {
            let p = params("lion", ["betas": .list([b1, b2]), "weight_decay": .number(wd)])
            try check("lion", p, twoParams, steps: 5, label: "lion \(b1) \(b2) wd=\(wd)") { spec, decay in
                LionReference(beta1: b1, beta2: b2, wd: wd, decay: decay, m: .init(repeating: 0, count: spec.count))
            }
        }
    }

    // MARK: - LAMB (You et al. 2019)

    /// LAMB, Algorithm 2: bias-corrected Adam ratio r plus wd p, trust ratio ||p|| / ||r||.
    private struct LAMBReference: ParamReference {
        let beta1, beta2, eps, wd: Double, decay: Bool
        var m: [Double], v: [Double]
        mutating func step(_ p: inout [Double], _ g: [Double], lr: Double, t: Int) {
            let bc1 = 1 - pow(beta1, Double(t)), bc2 = 1 - pow(beta2, Double(t))
            var r = [Double](repeating: 0, count: p.count)
            for i in p.indices {
                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                r[i] = (m[i] / bc1) / ((v[i] / bc2).squareRoot() + eps) + (decay ? wd * p[i] : 0)
            }
            let pNorm = p.map { $0 * $0 }.reduce(0, +).squareRoot(), rNorm = r.map { $0 * $0 }.reduce(0, +).squareRoot()
            let ratio = pNorm > 0 && rNorm > 0 ? pNorm / rNorm : 1
            for i in p.indices { p[i] -= lr * ratio * r[i] }
        }
        var states: [String: [Double]] { ["exp_avg": m, "exp_avg_sq": v] }
    }

    func testLAMBAppliesTheTrustRatioPerTensorAndOneForAZeroTensor() throws {
        let specs = twoParams + [ParamSpec(name: "zero", shape: [4], zeros: true)]
        for wd in [0.01, 0.3] {
            let p = params("lamb", ["betas": .list([0.9, 0.99]), "weight_decay": .number(wd)])
            try check("lamb", p, specs, label: "lamb wd=\(wd)") { spec, decay in
                LAMBReference(beta1: 0.9, beta2: 0.99, eps: 1e-6, wd: wd, decay: decay,
                              m: .init(repeating: 0, count: spec.count), v: .init(repeating: 0, count: spec.count))
            }
        }
    }

    // MARK: - Adafactor (Shazeer & Stern 2018, HF/fairseq form)

    /// Adafactor: factored second moments over the last two dims, unfactored for 1-D, update
    /// clipping, beta2_t = 1 - t^c, optional first moment, relative step and parameter scale.
    private struct AdafactorReference: ParamReference {
        let shape: [Int], decay: Bool
        let eps1, eps2, clip, decayRate, beta1, wd: Double
        let scaleParameter, relativeStep, warmupInit: Bool
        var m: [Double] = [], v: [Double] = [], row: [Double] = [], col: [Double] = []
        var factored: Bool { shape.count >= 2 }

        init(shape: [Int], decay: Bool, p: [String: Double]) {
            self.shape = shape; self.decay = decay
            eps1 = p["eps1"]!; eps2 = p["eps2"]!; clip = p["clip_threshold"]!; decayRate = p["decay_rate"]!
            beta1 = p["beta1"]!; wd = p["weight_decay"]!
            scaleParameter = p["scale_parameter"]! != 0; relativeStep = p["relative_step"]! != 0; warmupInit = p["warmup_init"]! != 0
            let n = shape.reduce(1, *)
            m = .init(repeating: 0, count: n)
            if factored {
                let r = shape[shape.count - 2], c = shape[shape.count - 1], b = n / (r * c)
                row = .init(repeating: 0, count: b * r); col = .init(repeating: 0, count: b * c)
            } else {
                v = .init(repeating: 0, count: n)
            }
        }

        static func rms(_ x: [Double]) -> Double { (x.map { $0 * $0 }.reduce(0, +) / Double(x.count)).squareRoot() }

        mutating func step(_ p: inout [Double], _ g: [Double], lr: Double, t: Int) {
            let n = p.count, tt = Double(t)
            var rho = lr
            if relativeStep { rho = min(warmupInit ? 1e-6 * tt : 1e-2, 1 / tt.squareRoot()) }
            let alpha = scaleParameter ? max(eps2, Self.rms(p)) * rho : rho
            let beta2 = 1 - pow(tt, decayRate)
            let q = g.map { $0 * $0 + eps1 }
            var u = [Double](repeating: 0, count: n)
            if factored {
                let R = shape[shape.count - 2], C = shape[shape.count - 1], B = n / (R * C)
                for b in 0..<B {
                    for r in 0..<R {
                        let mean = (0..<C).map { q[(b * R + r) * C + $0] }.reduce(0, +) / Double(C)
                        row[b * R + r] = beta2 * row[b * R + r] + (1 - beta2) * mean
                    }
                    for c in 0..<C {
                        let mean = (0..<R).map { q[(b * R + $0) * C + c] }.reduce(0, +) / Double(R)
                        col[b * C + c] = beta2 * col[b * C + c] + (1 - beta2) * mean
                    }
                    let rowMean = row[(b * R)..<((b + 1) * R)].reduce(0, +) / Double(R)
                    for r in 0..<R {
                        for c in 0..<C {
                            let i = (b * R + r) * C + c
                            u[i] = g[i] / (row[b * R + r] / rowMean).squareRoot() / col[b * C + c].squareRoot()
                        }
                    }
                }
            } else {
                for i in 0..<n {
                    v[i] = beta2 * v[i] + (1 - beta2) * q[i]
                    u[i] = g[i] / v[i].squareRoot()
                }
            }
            let clipDiv = max(1, Self.rms(u) / clip)
            u = u.map { $0 / clipDiv * alpha }
            if beta1 > 0 {
                for i in 0..<n { m[i] = beta1 * m[i] + (1 - beta1) * u[i] }
                u = m
            }
            for i in 0..<n {
                if decay { p[i] -= wd * alpha * p[i] }
                p[i] -= u[i]
            }
        }

        var states: [String: [Double]] {
            var s: [String: [Double]] = factored ? ["exp_avg_sq_row": row, "exp_avg_sq_col": col] : ["exp_avg_sq": v]
            if beta1 > 0 { s["exp_avg"] = m }
            return s
        }
    }

    func testAdafactorFactoredAndUnfactoredWithClippingMomentumAndScaling() throws {
        let specs = [ParamSpec(name: "w", shape: [3, 4]), ParamSpec(name: "t", shape: [2, 3, 5]), ParamSpec(name: "b", shape: [4])]
        let variants: [(String, [String: ParameterValue])] = [
            ("defaults", [:]),
            ("momentum+decay+scale", ["beta1": .number(0.9), "weight_decay": .number(0.1), "scale_parameter": .number(1),
                                      "clip_threshold": .number(0.5), "decay_rate": .number(-0.5)]),
            ("relative+warmup", ["relative_step": .number(1), "warmup_init": .number(1), "scale_parameter": .number(1)]),
        ]
        for (label, overrides) in variants {
            let p = params("adafactor", overrides)
            let numbers = p.mapValues { value -> Double in if case .number(let d) = value { return d }; return .nan }
            let opt = try check("adafactor", p, specs, steps: 5, label: "adafactor \(label)") { spec, decay in
                AdafactorReference(shape: spec.shape, decay: decay, p: numbers)
            }
            // the factors are shaped like the parameter without one of its last two dims
            let shapes = Dictionary(uniqueKeysWithValues: opt.stateTensors.map { ($0.name, $0.tensor.shape) })
            XCTAssertEqual(shapes["w/exp_avg_sq_row"], [3])
            XCTAssertEqual(shapes["w/exp_avg_sq_col"], [4])
            XCTAssertEqual(shapes["t/exp_avg_sq_row"], [2, 3])
            XCTAssertEqual(shapes["t/exp_avg_sq_col"], [2, 5])
            XCTAssertEqual(shapes["b/exp_avg_sq"], [4])
        }
    }

    func testAdafactorClipsTheUpdateToTheThresholdRMS() throws {
        // A single unfactored step from zero state: V = g^2 + eps1, U = g / |g| = sign(g), RMS(U) = 1;
        // with d = 0.25 the step is clipped to lr * 0.25 * sign(g) (hand-computed, independent of the reference).
        let b = Tensor(shape: [3], values: [1, -2, 0.5], requiresGrad: true)
        b.name = "b"
        let opt = try OptimizerInstance(registry: Self.registry, name: "adafactor",
                                        parameters: params("adafactor", ["clip_threshold": .number(0.25)]), modelParameters: [b])
        b.grad = Tensor(shape: [3], values: [3, 0.5, -4])
        try opt.step(lr: 0.1, step: 1)
        XCTAssertEqual(b.values[0], 1 - 0.025, accuracy: 1e-6)
        XCTAssertEqual(b.values[1], -2 - 0.025, accuracy: 1e-6)
        XCTAssertEqual(b.values[2], 0.5 + 0.025, accuracy: 1e-6)
        XCTAssertEqual(opt.stateTensors.first { $0.name == "b/exp_avg_sq" }?.tensor.values ?? [], [9, 0.25, 16])
    }

    // MARK: - Muon (Keller Jordan)

    /// Muon with Nesterov momentum and quintic Newton-Schulz for 2-D hidden matrices; the
    /// reference's adam_update with decoupled decay for the rest.
    private struct MuonReference: ParamReference {
        let shape: [Int], decay, useMuon: Bool
        let momentum: Double, nesterov: Bool, nsSteps: Int, wd: Double
        let beta1, beta2, eps, ratio: Double
        var buf: [Double], m: [Double], v: [Double]

        init(shape: [Int], decay: Bool, useMuon: Bool, p: [String: ParameterValue]) {
            func num(_ k: String) -> Double { if case .number(let d) = p[k]! { return d }; return .nan }
            self.shape = shape; self.decay = decay; self.useMuon = useMuon
            momentum = num("momentum"); nesterov = num("nesterov") != 0; nsSteps = Int(num("ns_steps")); wd = num("weight_decay")
            if case .list(let b) = p["adamw_betas"]! { beta1 = b[0]; beta2 = b[1] } else { beta1 = .nan; beta2 = .nan }
            eps = num("adamw_eps"); ratio = num("adamw_lr_ratio")
            let n = shape.reduce(1, *)
            buf = .init(repeating: 0, count: n); m = buf; v = buf
        }

        static func matmul(_ a: [Double], _ b: [Double], _ rows: Int, _ inner: Int, _ cols: Int) -> [Double] {
            var c = [Double](repeating: 0, count: rows * cols)
            for i in 0..<rows { for k in 0..<inner { for j in 0..<cols { c[i * cols + j] += a[i * inner + k] * b[k * cols + j] } } }
            return c
        }

        static func transpose(_ a: [Double], _ rows: Int, _ cols: Int) -> [Double] {
            var t = [Double](repeating: 0, count: rows * cols)
            for i in 0..<rows { for j in 0..<cols { t[j * rows + i] = a[i * cols + j] } }
            return t
        }

        /// zeropower_via_newtonschulz5 in float64.
        func orthogonalise(_ g: [Double], _ rows: Int, _ cols: Int) -> [Double] {
            let (a, b, c) = (3.4445, -4.7750, 2.0315)
            let tall = rows > cols
            var x = tall ? Self.transpose(g, rows, cols) : g
            let (r, k) = tall ? (cols, rows) : (rows, cols)
            let norm = x.map { $0 * $0 }.reduce(0, +).squareRoot()
            x = x.map { $0 / (norm + 1e-7) }
            for _ in 0..<nsSteps {
                let A = Self.matmul(x, Self.transpose(x, r, k), r, k, r)
                let AA = Self.matmul(A, A, r, r, r)
                let B = A.indices.map { b * A[$0] + c * AA[$0] }
                let BX = Self.matmul(B, x, r, r, k)
                x = x.indices.map { a * x[$0] + BX[$0] }
            }
            return tall ? Self.transpose(x, r, k) : x
        }

        mutating func step(_ p: inout [Double], _ g: [Double], lr: Double, t: Int) {
            if useMuon {
                let rows = shape[0], cols = p.count / rows
                for i in p.indices { buf[i] = momentum * buf[i] + (1 - momentum) * g[i] }
                let u = nesterov ? p.indices.map { (1 - momentum) * g[$0] + momentum * buf[$0] } : buf
                let o = orthogonalise(u, rows, cols)
                let scale = max(1, Double(rows) / Double(cols)).squareRoot()
                for i in p.indices { p[i] = p[i] * (decay ? 1 - lr * wd : 1) - lr * scale * o[i] }
            } else {
                let lrA = lr * ratio, bc1 = 1 - pow(beta1, Double(t)), bc2 = 1 - pow(beta2, Double(t))
                for i in p.indices {
                    m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                    v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                    let u = (m[i] / bc1) / ((v[i] / bc2).squareRoot() + eps)
                    p[i] = p[i] * (decay ? 1 - lrA * wd : 1) - lrA * u
                }
            }
        }

        var states: [String: [Double]] { useMuon ? ["momentum_buffer": buf] : ["exp_avg": m, "exp_avg_sq": v] }
    }

    func testMuonOrthogonalisesHiddenMatricesAndFallsBackToAdamW() throws {
        let specs = [ParamSpec(name: "blocks.0.mlp.fc.weight", shape: [3, 5]),       // wide: Muon
                     ParamSpec(name: "blocks.0.attn.proj.weight", shape: [6, 4]),    // tall: Muon
                     ParamSpec(name: "token_embedding.weight", shape: [5, 4]),       // embedding + head: AdamW
                     ParamSpec(name: "final_norm.weight", shape: [4])]               // norm: AdamW
        // The path follows the host's roles (ABI 1.2), as the model gives them; without roles a
        // 2+-dim parameter counts as hidden.
        let roles: [[ParameterRole]] = [[.hidden, .hidden, [.embedding, .head], .norm], []]
        let variants: [(String, [String: ParameterValue])] = [
            ("defaults+wd", ["weight_decay": .number(0.1), "adamw_lr_ratio": .number(0.5)]),
            ("no nesterov, 3 steps, no roles", ["nesterov": .number(0), "ns_steps": .number(3), "momentum": .number(0.9),
                                                "adamw_betas": .list([0.8, 0.99]), "adamw_eps": .number(1e-8),
                                                "adamw_lr_ratio": .number(2)]),
        ]
        for ((label, overrides), roles) in zip(variants, roles) {
            let p = params("muon", overrides)
            let hidden = Dictionary(uniqueKeysWithValues: specs.enumerated().map { i, spec in
                (spec.name, i < roles.count ? roles[i].contains(.hidden) : spec.shape.count >= 2)
            })
            try check("muon", p, specs, lr: { 0.02 * Double($0) }, label: "muon \(label)", roles: roles) { spec, decay in
                MuonReference(shape: spec.shape, decay: decay, useMuon: hidden[spec.name]!, p: p)
            }
        }
    }

    func testMuonUpdateIsNearlyOrthogonal() throws {
        // Independent of the reference: with momentum 0 the first Muon step is lr * O where O is
        // Newton-Schulz's approximation of U V^T, whose singular values lie in about [0.5, 1.5];
        // for a wide matrix O O^T must therefore be close to the identity's scale, not to G G^T's.
        let w = Tensor(shape: [4, 8], values: (0..<32).map { Float(($0 * 37) % 11) - 5 }, requiresGrad: true)
        w.name = "blocks.0.mlp.fc.weight"
        let before = w.values
        let opt = try OptimizerInstance(registry: Self.registry, name: "muon",
                                        parameters: params("muon", ["momentum": .number(0), "nesterov": .number(0)]),
                                        modelParameters: [w])
        var rng = RandomGenerator(seed: 5)
        w.grad = Tensor(shape: [4, 8], values: (0..<32).map { _ in Float(rng.normal() * 10) })
        try opt.step(lr: 1, step: 1)
        let o = zip(before, w.values).map { Double($0 - $1) }  // lr = 1, no decay: O itself
        for i in 0..<4 {
            let diag = (0..<8).map { o[i * 8 + $0] * o[i * 8 + $0] }.reduce(0, +)
            XCTAssertGreaterThan(diag, 0.25 * 0.9, "row \(i) of O O^T")
            XCTAssertLessThan(diag, 1.5 * 1.5 * 1.1, "row \(i) of O O^T")
        }
    }

    // MARK: - End to end

    func testEveryOptimizerTrainsTheModel() throws {
        let runs: [(String, [String: ParameterValue], Double)] = [
            ("sgd", params("sgd", ["momentum": .number(0.9), "nesterov": .number(1)]), 0.5),
            ("adam", params("adam"), 3e-3),
            ("rmsprop", params("rmsprop"), 1e-3),
            ("adagrad", params("adagrad"), 3e-2),
            ("lion", params("lion", ["weight_decay": .number(0.1)]), 3e-3),
            ("lamb", params("lamb"), 6e-2),
            ("adafactor", params("adafactor"), 1e-2),
            ("muon", params("muon", ["adamw_lr_ratio": .number(0.15)]), 0.02),
        ]
        for (name, parameters, lr) in runs {
            var o = TrainingTests.config(runDir: try PluginBuilder.temporaryDirectory("optim-\(name)").path, steps: 40)
            o.optimizer = ComponentSelection(kind: .optimizer, name: name, parameters: parameters)
            o.lr = lr
            o.train.minLR = lr / 10
            o.train.logInterval = 1
            o.train.evalInterval = 0
            o.evaluators = []
            var losses: [Double] = []
            let session = try TrainingTests.session(o, registry: Self.registry) { p in
                if p.kind == .step { losses.append(p.loss) }
            }
            let result = try session.train()
            XCTAssertEqual(result.steps, 40, name)
            XCTAssertEqual(losses.count, 40, name)
            let first = losses.prefix(5).reduce(0, +) / 5, last = losses.suffix(5).reduce(0, +) / 5
            XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(name): \(losses)")
            XCTAssertLessThan(last, first - 0.5, "\(name): loss should fall: \(losses)")
        }
    }
}
