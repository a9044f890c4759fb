import AutoGLM
import Foundation
import XCTest

/// Calls through libffi: C functions compiled at test time (Fixtures/ffi_functions.c), bound by
/// library + symbol + prototype, with every argument and return type; argument errors; text
/// arguments; in-process registration; calls from several threads at once.
final class FunctionBindingTests: XCTestCase {
    /// ffi_functions.c, compiled once for the class.
    nonisolated(unsafe) private static var library: String?

    override func setUpWithError() throws {
        if Self.library == nil {
            Self.library = try PluginBuilder.compileFixture("ffi_functions.c", into: try PluginBuilder.temporaryDirectory("ffi"))
        }
    }

    /// The fixture's function declared by `prototype`, bound in a fresh registry.
    private func bind(_ prototype: String) throws -> FunctionBinding {
        try PluginRegistry().bindFunction(library: try XCTUnwrap(Self.library), prototype: prototype).binding
    }

    /// The result of calling `prototype`'s function with `arguments`.
    private func call(_ prototype: String, _ arguments: FunctionArgument...) throws -> FunctionResult {
        try bind(prototype).call(arguments)
    }

    /// The message of the error the call throws.
    private func message(_ body: () throws -> Any) -> String {
        do {
            let value = try body()
            XCTFail("expected an error, got \(value)")
        } catch {
            return "\(error)"
        }
        return ""
    }

    func testNarrowArgumentsArePassedWithTheirWidthAndSign() throws {
        XCTAssertEqual(try call("int64_t widen_i8(int8_t x)", .int(-1)), .int(-1))
        XCTAssertEqual(try call("int64_t widen_i8(int8_t x)", .int(-128)), .int(-128))
        XCTAssertEqual(try call("int64_t widen_i8(int8_t x)", .uint(127)), .int(127))
        XCTAssertEqual(try call("int64_t widen_i16(int16_t x)", .int(-32768)), .int(-32768))
        XCTAssertEqual(try call("int64_t widen_i32(int32_t x)", .int(Int64(Int32.min))), .int(Int64(Int32.min)))
        XCTAssertEqual(try call("uint64_t widen_u8(uint8_t x)", .uint(255)), .uint(255))
        XCTAssertEqual(try call("uint64_t widen_u8(uint8_t x)", .int(200)), .uint(200))
        XCTAssertEqual(try call("uint64_t widen_u16(uint16_t x)", .uint(65535)), .uint(65535))
        XCTAssertEqual(try call("uint64_t widen_u32(uint32_t x)", .uint(4_294_967_295)), .uint(4_294_967_295))
    }

    func testNarrowReturnsAreReadAtTheirWidthWithTheirSign() throws {
        XCTAssertEqual(try call("int8_t narrow_i8(int64_t x)", .int(-3)), .int(-3))
        XCTAssertEqual(try call("int8_t narrow_i8(int64_t x)", .int(-128)), .int(-128))
        XCTAssertEqual(try call("int8_t narrow_i8(int64_t x)", .int(127)), .int(127))
        XCTAssertEqual(try call("int16_t narrow_i16(int64_t x)", .int(-1234)), .int(-1234))
        XCTAssertEqual(try call("int32_t narrow_i32(int64_t x)", .int(-2_000_000_000)), .int(-2_000_000_000))
        XCTAssertEqual(try call("uint8_t narrow_u8(uint64_t x)", .uint(250)), .uint(250))
        XCTAssertEqual(try call("uint16_t narrow_u16(uint64_t x)", .uint(65000)), .uint(65000))
        XCTAssertEqual(try call("uint32_t narrow_u32(uint64_t x)", .uint(4_000_000_000)), .uint(4_000_000_000))
    }

    func testSixtyFourBitsAndTheCNamedIntegers() throws {
        XCTAssertEqual(try call("int64_t sub_i64(int64_t a, int64_t b)", .int(Int64.min + 5), .int(5)), .int(Int64.min))
        XCTAssertEqual(try call("uint64_t add_u64(uint64_t a, uint64_t b)", .uint(UInt64.max - 1), .uint(1)), .uint(UInt64.max))
        XCTAssertEqual(try call("int mul_int(int a, int b)", .int(-7), .int(6)), .int(-42))
        XCTAssertEqual(try call("long sub_long(long a, long b)", .int(3), .int(5_000_000_000)), .int(-4_999_999_997))
        XCTAssertEqual(try call("size_t add_size(size_t a, size_t b)", .uint(1 << 40), .int(2)), .uint((1 << 40) + 2))
    }

    func testBool() throws {
        let both = try bind("bool both(bool a, _Bool b)")
        XCTAssertEqual(try both.call([.bool(true), .bool(true)]), .bool(true))
        XCTAssertEqual(try both.call([.bool(true), .bool(false)]), .bool(false))
        XCTAssertEqual(try both.call([.bool(false), .bool(true)]), .bool(false))
        XCTAssertEqual(try call("bool is_negative(double x)", .double(-0.5)), .bool(true))
        XCTAssertEqual(try call("bool is_negative(double x)", .double(2)), .bool(false))
    }

    func testFloatAndDoubleAreNotConfused() throws {
        let tenth = Float(0.1)
        XCTAssertEqual(try call("double float_to_double(float x)", .float(tenth)), .double(Double(tenth)))
        XCTAssertNotEqual(Double(tenth), 0.1)  // so the line above tells float from double
        XCTAssertEqual(try call("float double_to_float(double x)", .double(0.1)), .float(tenth))
        XCTAssertEqual(try call("float third_f(float x)", .float(1)), .float(Float(1) / 3))
        XCTAssertEqual(try call("double third_d(double x)", .double(1)), .double(1.0 / 3))
        XCTAssertNotEqual(Double(Float(1) / 3), 1.0 / 3)
    }

    func testEighteenMixedArgumentsIncludingStackPassedOnes() throws {
        let prototype = """
            double mixed(int8_t a, uint16_t b, int32_t c, int64_t d, float e, double f, bool g, uint8_t h, float i, \
            double j, int64_t k, double l, float m, double n, double o, double p, double q, int32_t r)
            """
        let ints: [Int64] = [-3, 60000, -70000, 1 << 40]
        let args: [FunctionArgument] = ints.map { .int($0) } + [.float(0.5), .double(-1.25), .bool(true), .uint(200), .float(0.25),
                                                                .double(3.5), .int(-9), .double(1e3), .float(-0.75), .double(2),
                                                                .double(-4.5), .double(0.125), .double(64), .int(-1000)]
        // The same weighted sum in Swift (every term is exact in double).
        let values: [Double] = [-3, 60000, -70000, Double(1 << 40), 0.5, -1.25, 1, 200, 0.25, 3.5, -9, 1e3, -0.75, 2, -4.5, 0.125, 64, -1000]
        let expected = values.enumerated().reduce(0.0) { $0 + Double($1.offset + 1) * $1.element }
        XCTAssertEqual(try bind(prototype).call(args), .double(expected))
    }

    func testStringsInAndOut() throws {
        XCTAssertEqual(try call("size_t byte_length(const char *s)", .string("héllo")), .uint(6))
        XCTAssertEqual(try call("size_t byte_length(const char *s)", .string("")), .uint(0))
        let startsWith = try bind("bool starts_with(const char *s, const char *prefix)")
        XCTAssertEqual(try startsWith.call([.string("warmup_cosine"), .string("warmup")]), .bool(true))
        XCTAssertEqual(try startsWith.call([.string("abc"), .string("abd")]), .bool(false))
        let ordinal = try bind("const char *ordinal(int32_t i)")
        XCTAssertEqual(try ordinal.call([.int(1)]), .string("one"))
        let null = message { try ordinal.call([.int(7)]) }
        XCTAssertTrue(null.contains("ordinal: returned a NULL string"), null)
        let nul = message { try startsWith.call([.string("a\u{0}b"), .string("a")]) }
        XCTAssertTrue(nul.contains("argument 's' contains a NUL character"), nul)
    }

    func testBuffersReadAndWrittenByTheCallee() throws {
        var x: [Float] = [1, 2, 3.5]
        let sum = try bind("double sum_floats(const float *x, size_t n)")
        XCTAssertEqual(try x.withUnsafeBufferPointer { try sum.call([.buffer(FloatBuffer(readOnly: $0))]) }, .double(6.5))
        XCTAssertEqual(try sum.call([.buffer(FloatBuffer(readOnly: UnsafeBufferPointer(start: nil, count: 0)))]), .double(0))

        let scale = try bind("void scale_floats(float *x, int64_t n, float factor)")
        XCTAssertEqual(try x.withUnsafeMutableBufferPointer { try scale.call([.buffer(FloatBuffer($0)), .float(2)]) }, .void)
        XCTAssertEqual(x, [2, 4, 7])
        let readOnly = message { try x.withUnsafeBufferPointer { try scale.call([.buffer(FloatBuffer(readOnly: $0)), .float(2)]) } }
        XCTAssertTrue(readOnly.contains("argument 'x' is float * (the function writes it): pass a writable buffer"), readOnly)

        let dot = try bind("double dot(const float *a, size_t na, const float *b, int64_t nb)")
        let a: [Float] = [1, 2, 3], b: [Float] = [4, -5, 0.5]
        let d = try a.withUnsafeBufferPointer { pa in
            try b.withUnsafeBufferPointer { pb in try dot.call([.buffer(FloatBuffer(readOnly: pa)), .buffer(FloatBuffer(readOnly: pb))]) }
        }
        XCTAssertEqual(d, .double(4 - 10 + 1.5))  // both lengths arrived (the function returns -1 if they differ)

        let prefix = try bind("int64_t prefix_sums(const float *x, size_t n, float *out, size_t m)")
        var out = [Float](repeating: -1, count: 5)
        let written = try a.withUnsafeBufferPointer { pa in
            try out.withUnsafeMutableBufferPointer { po in try prefix.call([.buffer(FloatBuffer(readOnly: pa)), .buffer(FloatBuffer(po))]) }
        }
        XCTAssertEqual(written, .int(3))
        XCTAssertEqual(out, [1, 3, 6, -1, -1])
    }

    func testNoParametersAndNoResult() throws {
        XCTAssertEqual(try call("int32_t forty_two(void)"), .int(42))
        let value = try bind("int32_t counter_value(void)")
        let before = try value.call([])
        XCTAssertEqual(try call("void bump(int32_t by)", .int(5)), .void)
        guard case .int(let b) = before else { return XCTFail("\(before)") }
        XCTAssertEqual(try value.call([]), .int(b + 5))
    }

    func testOneBindingCalledFromSeveralThreadsAtOnce() throws {
        let collatz = try bind("int64_t collatz_steps(int64_t n)")
        let threads = 8, perThread = 3000
        let expected: [Int64] = (1...threads * perThread).map { start in
            var n = Int64(start), count: Int64 = 0
            while n > 1 { n = n % 2 == 0 ? n / 2 : 3 * n + 1; count += 1 }
            return count
        }
        // Each thread writes only its own slice.
        nonisolated(unsafe) let results = UnsafeMutableBufferPointer<Int64>.allocate(capacity: expected.count)
        defer { results.deallocate() }
        results.initialize(repeating: -1)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in t * perThread..<(t + 1) * perThread {
                if case .int(let steps) = try? collatz.call([.int(Int64(i + 1))]) { results[i] = steps }
            }
        }
        XCTAssertEqual(Array(results), expected)
    }

    func testArgumentErrorsNameTheParameterAndThePrototype() throws {
        let sub = try bind("int64_t sub_i64(int64_t a, int64_t b)")
        let prototype = "(prototype: int64_t sub_i64(int64_t a, int64_t b))"
        for (text, expected) in [
            (message { try sub.call([.int(1)]) }, "sub_i64: 1 arguments given for 2 parameters"),
            (message { try sub.call(named: ["a": .int(1)]) }, "missing argument 'b' (int64_t)"),
            (message { try sub.call(named: ["a": .int(1), "b": .int(2), "bb": .int(3)]) }, "unknown argument 'bb' (did you mean 'b'?)"),
            (message { try sub.call([.int(1), .double(2)]) }, "argument 'b' is int64_t and needs an integer, not the double 2.0"),
            (message { try sub.call([.uint(UInt64.max), .int(0)]) }, "argument 'a': the unsigned integer 18446744073709551615 is outside int64_t's range"),
        ] {
            XCTAssertTrue(text.contains(expected), "'\(text)' lacks '\(expected)'")
            XCTAssertTrue(text.contains(prototype), text)
        }
        XCTAssertEqual(try sub.call(named: ["b": .int(2), "a": .int(9)]), .int(7))
        let i8 = message { try self.call("int64_t widen_i8(int8_t x)", .int(128)) }
        XCTAssertTrue(i8.contains("the integer 128 is outside int8_t's range -128...127"), i8)
        let u8 = message { try self.call("uint64_t widen_u8(uint8_t x)", .int(-1)) }
        XCTAssertTrue(u8.contains("outside uint8_t's range 0...255"), u8)
        let u32 = message { try self.call("uint64_t widen_u32(uint32_t x)", .uint(1 << 32)) }
        XCTAssertTrue(u32.contains("outside uint32_t's range 0...4294967295"), u32)
        let float = message { try self.call("double float_to_double(float x)", .double(0.5)) }
        XCTAssertTrue(float.contains("argument 'x' is float and needs a float, not the double 0.5"), float)
        let string = message { try self.call("size_t byte_length(const char *s)", .int(3)) }
        XCTAssertTrue(string.contains("argument 's' is const char * and needs a string"), string)
        let buffer = message { try self.call("double sum_floats(const float *x, size_t n)", .double(1)) }
        XCTAssertTrue(buffer.contains("argument 'x' is const float * and needs a float buffer"), buffer)
    }

    func testTextArguments() throws {
        let scale = try bind("void scale_floats(float *x, int64_t n, float factor)")
        let args = try FunctionTextArguments(line: "x=1,2.5,-3 factor=2", prototype: scale.prototype)
        XCTAssertEqual(try scale.call(named: args.values), .void)
        XCTAssertEqual(args.writtenBuffers.map(\.name), ["x"])
        XCTAssertEqual(args.writtenBuffers.first?.values, [2, 5, -6])
        let empty = try FunctionTextArguments(["x=", "factor=3"], prototype: scale.prototype)
        XCTAssertEqual(try scale.call(named: empty.values), .void)
        XCTAssertEqual(empty.writtenBuffers.first?.values, [])

        let mixed = try CPrototype.parse("double m(int8_t a, uint64_t b, bool c, double d, const char *s)")
        let parsed = try FunctionTextArguments(line: "a=-5 b=18446744073709551615 c=true d=1e-3 s=x=y", prototype: mixed)
        guard case .int(-5) = parsed.values["a"], case .uint(UInt64.max) = parsed.values["b"], case .bool(true) = parsed.values["c"],
              case .double(1e-3) = parsed.values["d"], case .string("x=y") = parsed.values["s"] else {
            return XCTFail("\(parsed.values)")
        }
        for (words, expected) in [
            (["a=1.5"], "argument 'a' is int8_t: '1.5' is not a decimal integer"),
            (["c=maybe"], "argument 'c' is bool: 'maybe' is not true or false"),
            (["d=fast"], "argument 'd' is double: 'fast' is not a number"),
            (["a"], "argument 'a' is not name=value"),
            (["=3"], "argument '=3' is not name=value"),
            (["a=1", "a=2"], "argument 'a' is given twice"),
            (["dd=1"], "unknown argument 'dd' (did you mean 'd'?)"),
        ] {
            let text = message { try FunctionTextArguments(words, prototype: mixed) }
            XCTAssertTrue(text.contains(expected), "\(words): '\(text)' lacks '\(expected)'")
            XCTAssertTrue(text.contains("(prototype: double m(int8_t a, uint64_t b, bool c, double d, const char *s))"), text)
        }
        let badItem = message { try FunctionTextArguments(["x=1,,2"], prototype: scale.prototype) }
        XCTAssertTrue(badItem.contains("'' in '1,,2' is not a number"), badItem)
    }

    func testInProcessRegistrationFromAFunctionPointer() throws {
        let registry = PluginRegistry()
        let halve: @convention(c) (Int64, Double) -> Double = { n, x in x * Double(n) / 2 }
        let address = unsafeBitCast(halve, to: UnsafeRawPointer.self)
        let f = try registry.registerFunction(prototype: "double times_half(int64_t n, double x)", address: address,
                                              doc: "n*x/2", exampleArguments: "n=3 x=0.5", origin: "embedder")
        XCTAssertEqual(try f.binding.call([.int(3), .double(0.5)]), .double(0.75))
        XCTAssertEqual(registry.function(named: "times_half")?.info.file, "embedder")
        XCTAssertNil(registry.function(named: "times_half")?.info.abi)
        XCTAssertEqual(registry.allFunctions.map(\.name), ["times_half"])
        let clash = message { try registry.registerFunction(prototype: "double times_half(int64_t n, double x)", address: address, origin: "second") }
        XCTAssertTrue(clash.contains("function 'times_half' from second is already registered by embedder"), clash)
        let upper = message { try registry.registerFunction(prototype: "double Half(double x)", address: address) }
        XCTAssertTrue(upper.contains("function name 'Half' is not valid"), upper)
        let bad = message { try registry.registerFunction(prototype: "double half(double x", address: address) }
        XCTAssertTrue(bad.contains("prototype 'double half(double x': column 12: unbalanced parentheses"), bad)
    }

    func testBindingAMissingLibraryOrSymbolGivesDlerrorAndTheFix() throws {
        let noLibrary = message { try PluginRegistry().bindFunction(library: "/nonexistent/libnothing.so", prototype: "double f(double x)") }
        XCTAssertTrue(noLibrary.contains("cannot open library '/nonexistent/libnothing.so': /nonexistent/libnothing.so: cannot open shared object file"), noLibrary)
        XCTAssertTrue(noLibrary.contains("give the path of a shared library"), noLibrary)
        let library = try XCTUnwrap(Self.library)
        let noSymbol = message { try PluginRegistry().bindFunction(library: library, prototype: "double not_there(double x)") }
        XCTAssertTrue(noSymbol.contains("library '\(library)' has no symbol 'not_there'"), noSymbol)
        XCTAssertTrue(noSymbol.contains("undefined symbol: not_there"), noSymbol)  // dlerror's text
        XCTAssertTrue(noSymbol.contains("nm -D --defined-only"), noSymbol)
        // An explicit symbol under another name.
        let renamed = try PluginRegistry().bindFunction(library: library, symbol: "third_d", prototype: "double third(double x)")
        XCTAssertEqual(renamed.info.name, "third")
        XCTAssertEqual(try renamed.binding.call([.double(3)]), .double(1))
    }
}
