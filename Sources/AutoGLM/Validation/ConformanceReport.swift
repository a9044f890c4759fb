import Foundation

/// The outcome of one conformance check.
public struct ConformanceCheck: Sendable {
    /// Component the check ran on ("" for library-level checks).
    public var component: String
    /// What was checked.
    public var name: String
    /// Whether it passed.
    public var passed: Bool
    /// Measured values or the failure's reason.
    public var detail: String
}

/// Everything `autoglm plugins validate` found about one library.
public struct ConformanceReport: Sendable {
    /// The library file.
    public var file: String
    /// Every check, in the order run.
    public var checks: [ConformanceCheck] = []

    /// True when every check passed (and there was at least one).
    public var passed: Bool { !checks.isEmpty && checks.allSatisfy(\.passed) }

    /// Human-readable lines: "PASS component: check — detail".
    public func render() -> [String] {
        checks.map { "\($0.passed ? "PASS" : "FAIL")  \($0.component.isEmpty ? "library" : $0.component): \($0.name)"
            + ($0.detail.isEmpty ? "" : " — \($0.detail)") }
            + ["\(passed ? "PASSED" : "FAILED"): \(checks.filter(\.passed).count)/\(checks.count) checks, \(file)"]
    }

    mutating func record(_ component: String, _ name: String, _ body: () throws -> String) {
        do {
            checks.append(ConformanceCheck(component: component, name: name, passed: true, detail: try body()))
        } catch {
            checks.append(ConformanceCheck(component: component, name: name, passed: false, detail: "\(error)"))
        }
    }
}

/// A failed conformance expectation.
struct ConformanceFailure: Error, CustomStringConvertible {
    let description: String
    init(_ text: String) { description = text }
}
