import AutoGLM
import CAutoGLM
import Foundation
import XCTest

/// ABI 1.2's host->register_function, with plugins compiled by `cc`: registration and every
/// refusal, a name clash between libraries, version negotiation around 1.2, the init-only rule,
/// the header as C99 and C++17, and `plugins validate` on functions.
final class FunctionRegistrationTests: XCTestCase {
    /// Compiles a fixture into a fresh directory; returns its resolved path (as the registry
    /// reports files).
    private func compiled(_ fixture: String) throws -> String {
        let path = try PluginBuilder.compileFixture(fixture, into: try PluginBuilder.temporaryDirectory("functions"))
        return URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }

    func testPluginRegistersFunctionsAndEachBadRegistrationIsRefused() throws {
        let path = try compiled("function_plugin.c")
        let registry = PluginRegistry()
        XCTAssertTrue(registry.load(file: path), "\(registry.failures)")
        XCTAssertEqual(registry.libraries.first?.functions, ["scaled_sum", "scale_in_place", "answer", "ratio"])
        XCTAssertEqual(registry.libraries.first?.abi, "1.\(AGLM_ABI_MINOR)")
        XCTAssertEqual(registry.allFunctions.map(\.name), ["answer", "ratio", "scale_in_place", "scaled_sum"])

        let sum = try XCTUnwrap(registry.function(named: "scaled_sum"))
        XCTAssertEqual(sum.info.prototype, "double scaled_sum(const float *x, size_t n, double scale)")
        XCTAssertEqual(sum.info.doc, "scale times the sum of x")
        XCTAssertEqual(sum.info.exampleArguments, "x=1,2,3.5 scale=2")
        XCTAssertEqual(sum.info.file, path)
        XCTAssertEqual(sum.info.abi, "1.\(AGLM_ABI_MINOR)")
        let example = try FunctionTextArguments(line: sum.info.exampleArguments, prototype: sum.binding.prototype)
        XCTAssertEqual(try sum.binding.call(named: example.values), .double(13))
        let answer = try XCTUnwrap(registry.function(named: "answer"))
        XCTAssertEqual(answer.info.doc, "")  // registered with a NULL info
        XCTAssertEqual(try answer.binding.call([]), .int(42))

        // The fixture's init checked that each of these returned AGLM_ERR_INVALID_ARGUMENT; the
        // reasons are listed against the file while the library still loads.
        let reasons = registry.failures.map(\.reason)
        XCTAssertTrue(registry.failures.allSatisfy { $0.file == path })
        let expected = [
            "prototype 'double scaled_sum(const float *x, size_t n, struct foo y)': column 45: unsupported type 'struct foo'",
            "fn is NULL for prototype 'double no_fn(int64_t x)'",
            "prototype is NULL",
            "aglm_function_info.struct_size is 4, smaller than ABI 1.2's \(MemoryLayout<aglm_function_info>.size): set it to sizeof(aglm_function_info)",
            "function name 'Shout' is not valid",
            "function 'camel': parameter name 'baseLR' is not valid",
            "function 'scaled_sum' is registered twice by this library",
        ]
        XCTAssertEqual(reasons.count, expected.count, "\(reasons)")
        for (reason, fragment) in zip(reasons, expected) { XCTAssertTrue(reason.contains(fragment), "'\(reason)' lacks '\(fragment)'") }
    }

    func testAFunctionNameTakenByAnotherLibraryIsRefusedNamingBothFiles() throws {
        let first = try compiled("function_plugin.c"), second = try compiled("function_clash.c")
        let registry = PluginRegistry()
        XCTAssertTrue(registry.load(file: first))
        // The library itself loads (it is initialised once per process and may serve another
        // registry); this registry refuses its function, naming both files.
        XCTAssertTrue(registry.load(file: second))
        XCTAssertEqual(registry.libraries.last?.functions, [], "the clashing function is not this registry's")
        let failure = try XCTUnwrap(registry.failures.first { $0.file == second })
        XCTAssertTrue(failure.reason.contains("function 'scaled_sum' is already registered by \(first)"), failure.reason)
        XCTAssertTrue(failure.description.contains(second), failure.description)
        XCTAssertEqual(registry.function(named: "scaled_sum")?.info.file, first, "the first registration stays")
    }

    func testPluginBuiltAgainstABI11StillLoads() throws {
        let registry = PluginRegistry()
        XCTAssertTrue(registry.load(file: try compiled("minor_1_1.c")), "\(registry.failures)")
        XCTAssertEqual(registry.libraries.first?.abi, "1.1")
        XCTAssertEqual(registry.names(kind: .callback), ["minor_1_1_noop"])
        XCTAssertEqual(registry.libraries.first?.functions, [])
        XCTAssertTrue(registry.failures.isEmpty)
    }

    func testPluginNeedingABI12IsRefusedByAHostSpeaking11() throws {
        let path = try compiled("function_plugin.c")
        let handle = try XCTUnwrap(dlopen(path, RTLD_NOW | RTLD_LOCAL))
        let symbol = try XCTUnwrap(dlsym(handle, AGLM_ENTRY_SYMBOL))
        let entry = try XCTUnwrap(unsafeBitCast(symbol, to: aglm_plugin_entry_fn.self)()).pointee
        XCTAssertEqual([entry.abi_major, entry.abi_minor, entry.min_host_minor], [1, UInt32(AGLM_ABI_MINOR), 2])
        let refusal = ABINegotiation.refusal(abiMajor: entry.abi_major, abiMinor: entry.abi_minor, minHostMinor: entry.min_host_minor,
                                             hostMajor: 1, hostMinor: 1)
        XCTAssertEqual(refusal, "needs host ABI 1.2 or newer, host speaks 1.1: upgrade autoglm, or rebuild the plugin with min_host_minor <= 1")
        XCTAssertNil(ABINegotiation.refusal(abiMajor: entry.abi_major, abiMinor: entry.abi_minor, minHostMinor: entry.min_host_minor,
                                            hostMajor: 1, hostMinor: UInt32(AGLM_ABI_MINOR)))
        XCTAssertEqual(AGLM_ABI_MINOR, 4)
    }

    func testNegotiationRules() {
        XCTAssertEqual(ABINegotiation.refusal(abiMajor: 2, abiMinor: 0, minHostMinor: 0, hostMajor: 1, hostMinor: 2),
                       "built for ABI 2, host speaks 1: rebuild it against this host's include/autoglm/plugin.h")
        XCTAssertEqual(ABINegotiation.refusal(abiMajor: 1, abiMinor: 1, minHostMinor: 2, hostMajor: 1, hostMinor: 2),
                       "inconsistent versions: min_host_minor 2 is newer than the abi_minor 1 it was built with")
        XCTAssertNil(ABINegotiation.refusal(abiMajor: 1, abiMinor: 1, minHostMinor: 1, hostMajor: 1, hostMinor: 2))  // older plugin
        XCTAssertNil(ABINegotiation.refusal(abiMajor: 1, abiMinor: 7, minHostMinor: 0, hostMajor: 1, hostMinor: 2))  // newer, tolerant
        XCTAssertNotNil(ABINegotiation.refusal(abiMajor: 1, abiMinor: 7, minHostMinor: 3, hostMajor: 1, hostMinor: 2))
    }

    func testRegisterFunctionOutsideInitIsRefused() throws {
        let report = PluginValidator.validate(file: try compiled("late_registration.c"))
        let failed = report.checks.filter { !$0.passed }
        XCTAssertEqual(failed.map(\.name), ["every event of a synthetic run accepted"], report.render().joined(separator: "\n"))
        let detail = failed.first?.detail ?? ""
        XCTAssertTrue(detail.contains("register_function: only allowed during the plugin's init"), detail)
        XCTAssertTrue(detail.contains("AGLM_ERR_STATE"), detail)
    }

    func testFunctionRegistrationCompilesWarningFreeAsC99AndCxx17() throws {
        let dir = try PluginBuilder.temporaryDirectory()
        let fixtures = PluginBuilder.fixturesDir, include = PluginBuilder.includeDir
        for (compiler, standard, source) in [("cc", "-std=c99", "function_plugin.c"), ("c++", "-std=c++17", "function_plugin.c"),
                                             ("c++", "-std=c++17", "header_cpp.cpp")] {
            let language = compiler == "c++" ? ["-x", "c++"] : []
            let result = try PluginBuilder.run([compiler, standard] + language + ["-Wall", "-Wextra", "-pedantic", "-Werror", "-c", "-I", include,
                                                "-o", dir.appendingPathComponent("out.o").path, fixtures + "/" + source])
            XCTAssertEqual(result.status, 0, "\(compiler) \(standard) \(source):\n\(result.output)")
        }
    }

    func testValidateChecksEachFunction() throws {
        let report = PluginValidator.validate(file: try compiled("function_plugin.c"))
        let failed = report.checks.filter { !$0.passed }.map { "\($0.component): \($0.name)" }
        // The refused registrations, the undocumented function and the NaN example.
        XCTAssertEqual(failed, [": every registration accepted", "answer: documented", "ratio: finite result on its example arguments"],
                       report.render().joined(separator: "\n"))
        let nan = report.checks.first { $0.component == "ratio" && !$0.passed }?.detail ?? ""
        XCTAssertTrue(nan.contains("a=0 b=0 gives -nan") || nan.contains("a=0 b=0 gives nan"), nan)  // 0/0's sign is the CPU's
        let passed = report.checks.filter { $0.component == "scaled_sum" }
        XCTAssertEqual(passed.map(\.passed), [true, true, true])
        XCTAssertTrue(passed.last?.detail.contains("x=1,2,3.5 scale=2 → 13.0") ?? false, "\(passed)")
    }
}
