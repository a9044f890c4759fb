import AutoGLM
import Foundation
import XCTest

/// The prototype parser: every accepted type and form, and every refusal with its column.
final class CPrototypeTests: XCTestCase {
    /// The error `text` is refused with.
    private func refusal(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> CPrototypeError? {
        do {
            let parsed = try CPrototype.parse(text)
            XCTFail("'\(text)' parsed as '\(parsed)'", file: file, line: line)
        } catch let error as CPrototypeError {
            return error
        } catch {
            XCTFail("'\(text)': unexpected \(error)", file: file, line: line)
        }
        return nil
    }

    /// Asserts that `text` is refused at `column` with a message containing every fragment.
    private func assertRefused(_ text: String, column: Int, _ fragments: String..., file: StaticString = #filePath, line: UInt = #line) {
        guard let error = refusal(text, file: file, line: line) else { return }
        XCTAssertEqual(error.column, column, "'\(text)': \(error)", file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(error.description.contains(fragment), "'\(text)': '\(error)' lacks '\(fragment)'", file: file, line: line)
        }
    }

    func testTheBriefsExample() throws {
        let p = try CPrototype.parse("double warmup_cosine(int64_t step, double base_lr, int64_t warmup, int64_t total, double min_lr)")
        XCTAssertEqual(p.name, "warmup_cosine")
        XCTAssertEqual(p.returnType.kind, .double)
        XCTAssertEqual(p.parameters.map(\.name), ["step", "base_lr", "warmup", "total", "min_lr"])
        XCTAssertEqual(p.parameters.map(\.type.kind), [.signed(bits: 64), .double, .signed(bits: 64), .signed(bits: 64), .double])
        XCTAssertTrue(p.parameters.allSatisfy { $0.length == nil })
        XCTAssertEqual(p.description, "double warmup_cosine(int64_t step, double base_lr, int64_t warmup, int64_t total, double min_lr)")
    }

    func testEveryScalarTypeAsParameterAndReturn() throws {
        let expected: [(String, CType.Kind)] = [
            ("bool", .bool), ("_Bool", .bool), ("int8_t", .signed(bits: 8)), ("int16_t", .signed(bits: 16)),
            ("int32_t", .signed(bits: 32)), ("int64_t", .signed(bits: 64)), ("uint8_t", .unsigned(bits: 8)),
            ("uint16_t", .unsigned(bits: 16)), ("uint32_t", .unsigned(bits: 32)), ("uint64_t", .unsigned(bits: 64)),
            ("int", .signed(bits: CInt.bitWidth)), ("long", .signed(bits: CLong.bitWidth)),
            ("size_t", .unsigned(bits: Int.bitWidth)), ("float", .float), ("double", .double),
            ("const char *", .string),
        ]
        for (spelling, kind) in expected {
            let gap = spelling.hasSuffix("*") ? "" : " "
            let p = try CPrototype.parse("\(spelling) f(\(spelling) x)")
            XCTAssertEqual(p.returnType.kind, kind, spelling)
            XCTAssertEqual(p.returnType.spelling, spelling)
            XCTAssertEqual(p.parameters.first?.type.kind, kind, spelling)
            XCTAssertEqual(p.description, "\(spelling)\(gap)f(\(spelling)\(gap)x)")
        }
        XCTAssertEqual(try CPrototype.parse("void f(int x)").returnType.kind, .void)
    }

    func testNoParameters() throws {
        for text in ["int32_t f(void)", "int32_t f()", "int32_t f( void )", "int32_t f(\tvoid\n)"] {
            let p = try CPrototype.parse(text)
            XCTAssertTrue(p.parameters.isEmpty, text)
            XCTAssertEqual(p.description, "int32_t f(void)")
        }
    }

    func testBuffersPairWithTheirLength() throws {
        let p = try CPrototype.parse("int64_t f(const float *x, size_t n, float *out, int64_t m, double scale)")
        XCTAssertEqual(p.parameters.map(\.name), ["x", "out", "scale"])
        XCTAssertEqual(p.parameters[0].type.kind, .floatBuffer(writable: false))
        XCTAssertEqual(p.parameters[0].length?.name, "n")
        XCTAssertEqual(p.parameters[0].length?.type.kind, .unsigned(bits: Int.bitWidth))
        XCTAssertEqual(p.parameters[1].type.kind, .floatBuffer(writable: true))
        XCTAssertEqual(p.parameters[1].length?.name, "m")
        XCTAssertEqual(p.parameters[1].length?.type.kind, .signed(bits: 64))
        XCTAssertNil(p.parameters[2].length)
        XCTAssertEqual(p.description, "int64_t f(const float *x, size_t n, float *out, int64_t m, double scale)")
    }

    func testWhitespaceIsFreeAndOneSemicolonMayEnd() throws {
        let canonical = "double f(const float *x, size_t n, const char *s)"
        for text in ["double f(const float*x,size_t n,const char*s)", "  double\nf ( const  float  *  x , size_t n , const char * s ) ",
                     "double f(const float *x, size_t n, const char *s);", "double f(const float *x, size_t n, const char *s) ;"] {
            XCTAssertEqual(try CPrototype.parse(text).description, canonical, text)
        }
    }

    func testUnsupportedTypesNameTheTypeAndColumn() {
        assertRefused("double f(int64_t step, struct foo x)", column: 24, "column 24: unsupported type 'struct foo'")
        assertRefused("double f(struct foo)", column: 10, "unsupported type 'struct foo'")
        assertRefused("double f(union u x)", column: 10, "unsupported type 'union u'")
        assertRefused("double f(enum e x)", column: 10, "unsupported type 'enum e'")
        assertRefused("struct s f(int x)", column: 1, "unsupported type 'struct s'")
        assertRefused("double f(void *p)", column: 10, "unsupported type 'void *'")
        assertRefused("double f(double *p, size_t n)", column: 10, "unsupported type 'double *'", "write float * (buffers hold float)")
        assertRefused("double f(const double *p, size_t n)", column: 10, "const float * (buffers hold float)")
        assertRefused("double f(int64_t *p)", column: 10, "unsupported type 'int64_t *'")
        assertRefused("double f(float **p)", column: 10, "unsupported type 'float **'")
        assertRefused("double f(float *const p, size_t n)", column: 10, "unsupported type 'float *const'")
        assertRefused("double f(float const *p, size_t n)", column: 10, "unsupported type 'float const *'", "write const float *")
        assertRefused("double f(char *s)", column: 10, "unsupported type 'char *'", "const char * (strings are read-only)")
        assertRefused("double f(char c)", column: 10, "unsupported type 'char'", "int8_t")
        assertRefused("double f(const double lr)", column: 10, "unsupported type 'const double'", "write double")
        assertRefused("double f(volatile int x)", column: 10, "unsupported type 'volatile int'")
        assertRefused("double f(const float *restrict x, size_t n)", column: 10, "unsupported type 'const float *restrict'")
        assertRefused("long double f(int x)", column: 1, "unsupported type 'long double'", "write double")
        assertRefused("const char *const f(int x)", column: 1, "unsupported type 'const char *const'")
        assertRefused("double f(foo_t x)", column: 10, "unsupported type 'foo_t'")
    }

    func testSynonymsAreRefusedWithTheSpellingToUse() {
        let long = CLong.bitWidth
        for (synonym, replacement) in [("unsigned", "uint32_t"), ("unsigned int", "uint32_t"), ("signed int", "int"),
                                       ("long int", "long"), ("unsigned long", "uint\(long)_t"), ("long long", "int64_t"),
                                       ("unsigned long long", "uint64_t"), ("short", "int16_t"), ("unsigned short", "uint16_t"),
                                       ("signed char", "int8_t"), ("unsigned char", "uint8_t"), ("ssize_t", "int64_t"),
                                       ("uintptr_t", "uint64_t")] {
            assertRefused("double f(int64_t a, \(synonym) x)", column: 21, "unsupported type '\(synonym)'", "write \(replacement)")
        }
    }

    func testVoidOnlyAsReturnOrAlone() {
        assertRefused("double f(void x)", column: 10, "a parameter cannot be void")
        assertRefused("double f(int a, void)", column: 17, "a parameter cannot be void")
        assertRefused("double f(void, int a)", column: 10, "void must be the only parameter")
    }

    func testNamesAreRequired() {
        assertRefused("double f(int64_t)", column: 10, "parameter 1 ('int64_t') has no name", "arguments are bound by name")
        assertRefused("double f(int64_t a, double)", column: 21, "parameter 2 ('double') has no name")
        assertRefused("double f(const char *)", column: 10, "('const char *') has no name", "'const char *x'")
        assertRefused("double f(const float *, size_t n)", column: 10, "has no name")
        assertRefused("double f(x)", column: 10, "parameter 1 ('x') has no type")
        assertRefused("double f(const x)", column: 10, "unsupported type 'const'")
        assertRefused("double(int x)", column: 7, "expected the function's name before '('")
        assertRefused("f(int x)", column: 1, "the function ('f') has no type")
        assertRefused("double f(int double)", column: 14, "'double' is a C keyword or type, not a name")
        assertRefused("double f(int64_t size_t)", column: 18, "'size_t' is a C keyword or type")
        assertRefused("double int(int x)", column: 8, "'int' is a C keyword or type")
        assertRefused("double f(int64_t const)", column: 18, "'const' is a C keyword or type")
    }

    func testDuplicateParameterNames() {
        assertRefused("double f(int64_t a, double b, float a)", column: 37, "parameter 'a' is declared twice (first at column 18)")
        assertRefused("double f(const float *x, size_t x)", column: 33, "parameter 'x' is declared twice")
    }

    func testBufferWithoutItsLength() {
        assertRefused("double f(const float *x)", column: 10, "buffer 'x' (const float *) must be followed by its length", "size_t x_len")
        assertRefused("double f(float *out, double y)", column: 22, "buffer 'out' (float *) must be followed by its length")
        assertRefused("double f(const float *x, int32_t n)", column: 26, "a size_t or int64_t parameter")
        assertRefused("double f(const float *x, uint64_t n)", column: 26, "must be followed by its length")
        assertRefused("float *f(int64_t n)", column: 1, "a function cannot return a buffer")
        assertRefused("const float *f(int64_t n)", column: 1, "cannot return a buffer")
    }

    func testUnbalancedParenthesesAndTrailingText() {
        assertRefused("double f(int64_t a", column: 9, "unbalanced parentheses: the '(' at column 9 is never closed")
        assertRefused("double f(int64_t a, ", column: 9, "unbalanced parentheses")
        assertRefused("double f(int64_t a))", column: 20, "unbalanced parentheses: ')' without a matching '('")
        assertRefused("double f)", column: 9, "unbalanced parentheses: ')' without a matching '('")
        assertRefused("double f(int64_t a) x", column: 21, "unexpected 'x' after the prototype's closing ')'")
        assertRefused("double f(int64_t a);;", column: 21, "unexpected ';'")
        assertRefused("double f(int64_t a) { return a; }", column: 21, "unexpected '{'")
        assertRefused("double f", column: 9, "expected '(' and the parameters after the function")
        assertRefused("double f(int a,)", column: 16, "expected parameter 2 before ')'")
        assertRefused("double f(,int a)", column: 10, "expected parameter 1 before ','")
    }

    func testOtherDeclaratorsAreRefused() {
        assertRefused("double f(int64_t n, ...)", column: 21, "variadic functions ('...') are not supported")
        assertRefused("double f(float x[], size_t n)", column: 17, "arrays are not supported", "const float *x, size_t n")
        assertRefused("double f(double (*g)(double), int64_t n)", column: 17, "function pointers")
        assertRefused("double (*f)(int x)", column: 8, "expected the function's name before '('")
        assertRefused("double f(int64_t a) /* comment */", column: 21, "unexpected '/'")
        assertRefused("double f(int64_t a; int64_t b)", column: 19, "unexpected ';' in parameter 1")
        assertRefused("double f(int64_t 1a)", column: 18, "unexpected character '1'")
        assertRefused("double f(int64_t ä)", column: 18, "unexpected character 'ä'")
        assertRefused("double f, g(int64_t a)", column: 9, "unexpected ',' in the function")
    }

    func testEmptyText() {
        assertRefused("", column: 1, "empty prototype")
        assertRefused("   ", column: 1, "empty prototype")
    }

    func testCanonicalTextParsesBackToTheSamePrototype() throws {
        for text in ["void g(float *out, size_t n, const char *label, bool flag)", "uint8_t h(void)",
                     "_Bool k(_Bool b, long l, int i, size_t s)"] {
            let p = try CPrototype.parse(text)
            XCTAssertEqual(try CPrototype.parse(p.description), p, text)
        }
    }
}
