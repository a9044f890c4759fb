import AutoGLMCore
import Foundation

/// Loads one plugin library in isolation and runs the checks the host can run on any component
/// of each kind: lifecycle, schema sanity, state round trip, and a kind-specific behaviour test
/// (attention: shapes, causality, gradient check, distance to dense attention; optimizer: it
/// decreases a quadratic; evaluator: batch-split invariance; callback: every event accepted);
/// and for each function registered by prototype: it parses, is documented, and gives a finite
/// result on its documented example arguments.
public enum PluginValidator {
    /// Validates the library at `path`.
    public static func validate(file path: String) -> ConformanceReport {
        var report = ConformanceReport(file: path)
        let registry = PluginRegistry()
        let loaded = registry.load(file: path)
        report.record("", "loads (entry point, ABI negotiation, init)") {
            guard loaded, let lib = registry.libraries.first else {
                throw ConformanceFailure(registry.failures.map(\.reason).joined(separator: "; "))
            }
            return "\(lib.name) \(lib.version), ABI \(lib.abi)"
        }
        report.record("", "every registration accepted") {
            let refused = registry.failures.map(\.reason)
            guard refused.isEmpty else { throw ConformanceFailure(refused.joined(separator: "; ")) }
            guard !registry.allComponents.isEmpty || !registry.allFunctions.isEmpty else {
                throw ConformanceFailure("registers no component and no function")
            }
            return (registry.allComponents.map { "\($0.kind.rawValue) \($0.name)" } + registry.allFunctions.map { "function \($0.name)" })
                .joined(separator: ", ")
        }
        for info in registry.allComponents {
            let defaults = info.parameters.defaultValues
            report.record(info.name, "schema sanity") { try checkSchema(info) }
            switch info.kind {
            case .attention: AttentionConformance.run(info: info, registry: registry, parameters: defaults, into: &report)
            case .optimizer: OptimizerConformance.run(info: info, registry: registry, parameters: defaults, into: &report)
            case .evaluator: EvaluatorConformance.run(info: info, registry: registry, parameters: defaults, into: &report)
            case .callback: CallbackConformance.run(info: info, registry: registry, parameters: defaults, into: &report)
            }
        }
        for info in registry.allFunctions {
            if let function = registry.function(named: info.name) { FunctionConformance.run(function, into: &report) }
        }
        return report
    }

    /// Summary and version present, every parameter documented with a default that passes its
    /// own validation.
    static func checkSchema(_ info: ComponentInfo) throws -> String {
        guard !info.summary.isEmpty else { throw ConformanceFailure("summary is empty") }
        guard !info.version.isEmpty else { throw ConformanceFailure("version is empty") }
        for p in info.parameters {
            guard !p.doc.isEmpty else { throw ConformanceFailure("parameter '\(p.name)' has no doc") }
            _ = try p.validate(p.defaultValue, key: p.name, origin: "default")
        }
        return "\(info.parameters.count) parameters"
    }

    /// Creates and destroys an instance twice (leaks and double frees surface under sanitizers;
    /// state that leaks between instances surfaces in the later checks).
    static func lifecycleTwice(_ make: () throws -> ComponentInstance) throws -> String {
        for _ in 0..<2 { _ = try make() }
        return "created and destroyed twice"
    }

    /// save_state → load_state into a fresh instance → save_state gives the same bytes.
    static func stateRoundTrip(_ make: () throws -> ComponentInstance) throws -> String {
        let a = try make()
        guard let bytes = try a.saveState() else { return "no save_state (stateless)" }
        let b = try make()
        try b.loadState(bytes)
        guard try b.saveState() == bytes else { throw ConformanceFailure("state after load_state differs from the saved state") }
        return "\(bytes.count) bytes round-trip"
    }
}
