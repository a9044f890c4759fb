import Foundation

/// A parsed C function prototype such as
/// `double warmup_cosine(int64_t step, double base_lr, int64_t warmup, int64_t total, double min_lr)`:
/// what the host needs to call the function through libffi and to bind arguments by name.
///
/// The grammar (whitespace, including newlines, may separate any two tokens):
///
///     prototype  := type NAME "(" parameters ")" [";"]
///     parameters := "void" | <nothing> | parameter ("," parameter)*
///     parameter  := type NAME
///     type       := void | bool | _Bool | int8_t … int64_t | uint8_t … uint64_t | int | long
///                 | size_t | float | double | "const char *" | "const float *" | "float *"
///
/// `void` is a return type only; `const float *` and `float *` (a buffer) must be followed at
/// once by a `size_t` or `int64_t` length parameter, and the pair is one logical parameter named
/// after the pointer. Choices, after reading how three FFIs parse declarations:
///
/// - A small hand-written lexer and recursive-descent parser, like LuaJIT's `lj_cparse.c`, not
///   regular expressions over the whole text (Ruby Fiddle's `cparser.rb`) nor a complete C
///   grammar (cffi hands its `cdef` to pycparser). The grammar above is all a scalar hook needs,
///   and every token keeps its 1-based column, so a refusal points at the offending text
///   (Fiddle reports the whole signature, LuaJIT "near 'token'" and a line, cffi a line).
/// - A closed set of types with one spelling each. Fiddle and cffi accept and normalise synonyms
///   (`long int`, `unsigned`, `signed char`) and resolve typedefs; here a synonym is refused with
///   the spelling to use instead (so docs, configs and `autoglm plugins` agree) and there are no
///   typedefs: the host cannot see a plugin's headers.
/// - Parameter names are required (all three accept abstract declarators such as `int`):
///   arguments are bound by name from configs and the command line. C keywords and the type
///   names above are not names.
/// - `(void)` and `()` both mean no parameters, as in cffi and LuaJIT (and C++ and C23); old
///   K&R-style declarations do not exist here.
/// - `const` is part of the pointer types only (read-only buffer, string). A top-level `const`
///   on a parameter (`const double lr`), which C does not count as part of the function's type
///   and cffi ignores, is refused with the plain spelling, as are `volatile` and `restrict`.
/// - Refused outright, with the column: variadic `...` (libffi needs the types of every call),
///   arrays (C would decay them to pointers, as cffi and LuaJIT do; write the buffer form),
///   function pointers, struct/union/enum, pointers other than the three above, comments.
/// - One optional trailing `;` (Fiddle also allows it), so a declaration can be pasted.
public struct CPrototype: Sendable, Equatable, CustomStringConvertible {
    /// The function's name.
    public var name: String
    /// Its return type (never a buffer).
    public var returnType: CType
    /// Its logical parameters in order (a buffer and its length are one).
    public var parameters: [CParameter]

    /// Creates a prototype from parts the parser checked (the only way to make one, so every
    /// prototype a binding is given obeys the grammar).
    init(name: String, returnType: CType, parameters: [CParameter]) {
        self.name = name; self.returnType = returnType; self.parameters = parameters
    }

    /// The prototype in canonical spelling, e.g. `double f(const float *x, size_t n)`.
    public var description: String {
        let list = parameters.map(\.declaration).joined(separator: ", ")
        return returnType.declaring(name) + "(\(list.isEmpty ? "void" : list))"
    }

    /// Parses `text`; throws `CPrototypeError` (with the 1-based column) on anything outside
    /// the grammar.
    public static func parse(_ text: String) throws -> CPrototype {
        var parser = PrototypeParser(tokens: try PrototypeLexer.tokens(of: text))
        return try parser.prototype()
    }
}

/// One logical parameter of a prototype.
public struct CParameter: Sendable, Equatable {
    /// Its name (the name arguments are bound by).
    public var name: String
    /// Its type; for a buffer, the pointer's.
    public var type: CType
    /// For a buffer: the length parameter that follows the pointer.
    public var length: CBufferLength?

    /// Creates a parameter (the parser does).
    init(name: String, type: CType, length: CBufferLength? = nil) {
        self.name = name; self.type = type; self.length = length
    }

    /// As written in the prototype: `int64_t step` or `const float *x, size_t n`.
    public var declaration: String {
        let own = type.declaring(name)
        return length.map { own + ", " + $0.type.declaring($0.name) } ?? own
    }
}

/// The length half of a buffer parameter.
public struct CBufferLength: Sendable, Equatable {
    /// Its name in the prototype (not bound separately: the host passes the buffer's count).
    public var name: String
    /// `size_t` or `int64_t`.
    public var type: CType
}

/// Why a prototype was refused, and where.
public struct CPrototypeError: Error, Equatable, CustomStringConvertible {
    /// 1-based column of the offending text.
    public var column: Int
    /// What is wrong, with the fix where there is one.
    public var message: String

    /// "column N: message".
    public var description: String { "column \(column): \(message)" }
}

/// A token of a prototype with its 1-based column.
private struct PrototypeToken {
    enum Kind: Equatable {
        case word(String)
        case star, open, close, comma, semicolon, end
        /// Anything else ("[", "...", "/"), kept for the error message.
        case other(String)
    }

    let kind: Kind
    let column: Int

    /// The token as the user wrote it, for messages.
    var text: String {
        switch kind {
        case .word(let w): return w
        case .star: return "*"
        case .open: return "("
        case .close: return ")"
        case .comma: return ","
        case .semicolon: return ";"
        case .end: return "end of text"
        case .other(let s): return s
        }
    }
}

/// Splits a prototype into words (C identifiers), punctuation and unexpected characters.
private enum PrototypeLexer {
    static func tokens(of text: String) throws -> [PrototypeToken] {
        let scalars = Array(text.unicodeScalars)
        var tokens: [PrototypeToken] = []
        var i = 0
        func isIdentifierStart(_ c: Unicode.Scalar) -> Bool { c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
        func isIdentifier(_ c: Unicode.Scalar) -> Bool { isIdentifierStart(c) || ("0"..."9").contains(c) }
        while i < scalars.count {
            let c = scalars[i], column = i + 1
            if c == " " || c == "\t" || c == "\n" || c == "\r" { i += 1; continue }
            if isIdentifierStart(c) {
                var j = i
                while j < scalars.count, isIdentifier(scalars[j]) { j += 1 }
                tokens.append(PrototypeToken(kind: .word(String(String.UnicodeScalarView(scalars[i..<j]))), column: column))
                i = j
                continue
            }
            let kind: PrototypeToken.Kind
            switch c {
            case "*": kind = .star
            case "(": kind = .open
            case ")": kind = .close
            case ",": kind = .comma
            case ";": kind = .semicolon
            case "." where i + 2 < scalars.count && scalars[i + 1] == "." && scalars[i + 2] == ".":
                kind = .other("..."); i += 2
            default: kind = .other(String(c))
            }
            tokens.append(PrototypeToken(kind: kind, column: column))
            i += 1
        }
        tokens.append(PrototypeToken(kind: .end, column: scalars.count + 1))
        return tokens
    }
}

/// Recursive descent over the tokens (see `CPrototype` for the grammar and the choices).
private struct PrototypeParser {
    let tokens: [PrototypeToken]
    var position = 0

    /// Words that are never names: C99's keywords and the supported type names.
    static let reserved: Set<String> = Set(CType.scalars.keys).union([
        "auto", "break", "case", "char", "const", "continue", "default", "do", "else", "enum", "extern",
        "for", "goto", "if", "inline", "register", "restrict", "return", "short", "signed", "sizeof",
        "static", "struct", "switch", "typedef", "union", "unsigned", "volatile", "while", "_Complex",
        "_Imaginary",
    ])

    init(tokens: [PrototypeToken]) { self.tokens = tokens }

    private var current: PrototypeToken { tokens[position] }

    private func error(_ column: Int, _ message: String) -> CPrototypeError { CPrototypeError(column: column, message: message) }

    mutating func prototype() throws -> CPrototype {
        if current.kind == .end { throw error(1, "empty prototype: write e.g. 'double f(int64_t step)'") }
        let head = try declaration(before: [.open], what: "the function")
        guard let name = head.name else { throw error(current.column, "expected the function's name before '\(current.text)'") }
        if case .floatBuffer = head.type.kind {
            throw error(head.column, "a function cannot return a buffer ('\(head.type.spelling)'): return void and take a float * buffer")
        }
        position += 1  // the '(' the declaration stopped at
        let parameters = try parameterList()
        if current.kind == .semicolon { position += 1 }
        if current.kind == .close { throw error(current.column, "unbalanced parentheses: ')' without a matching '('") }
        guard current.kind == .end else {
            throw error(current.column, "unexpected '\(current.text)' after the prototype's closing ')'")
        }
        return CPrototype(name: name, returnType: head.type, parameters: parameters)
    }

    /// The parameters up to and including the closing ')'.
    private mutating func parameterList() throws -> [CParameter] {
        if current.kind == .close { position += 1; return [] }
        if current.kind == .word("void"), tokens[position + 1].kind == .close { position += 2; return [] }
        var raw: [Declaration] = []
        while true {
            let parameter = try declaration(before: [.comma, .close], what: "parameter \(raw.count + 1)")
            if parameter.type.kind == .void {
                throw error(parameter.column, parameter.name == nil && raw.isEmpty
                    ? "void must be the only parameter: '(void)' means none"
                    : "a parameter cannot be void")
            }
            guard let name = parameter.name else {
                throw error(parameter.column, "parameter \(raw.count + 1) ('\(parameter.type.spelling)') has no name: arguments are bound by name, write e.g. '\(parameter.type.declaring("x"))'")
            }
            if let earlier = raw.first(where: { $0.name == name }) {
                throw error(parameter.nameColumn, "parameter '\(name)' is declared twice (first at column \(earlier.nameColumn))")
            }
            raw.append(parameter)
            let stop = current.kind  // a comma or the closing ')'
            position += 1
            if stop == .close { return try pairBuffers(raw) }
        }
    }

    /// Joins each buffer pointer with the length parameter that must follow it.
    private func pairBuffers(_ raw: [Declaration]) throws -> [CParameter] {
        var result: [CParameter] = []
        var i = 0
        while i < raw.count {
            let p = raw[i]
            guard case .floatBuffer = p.type.kind else {
                result.append(CParameter(name: p.name!, type: p.type)); i += 1; continue
            }
            let next = i + 1 < raw.count ? raw[i + 1] : nil
            guard let length = next, CType.lengthSpellings.contains(length.type.spelling) else {
                throw error(next?.column ?? p.column, "buffer '\(p.name!)' (\(p.type.spelling)) must be followed by its length, a size_t or int64_t parameter: write '\(p.type.declaring(p.name!)), size_t \(p.name!)_len'")
            }
            result.append(CParameter(name: p.name!, type: p.type, length: CBufferLength(name: length.name!, type: length.type)))
            i += 2
        }
        return result
    }

    /// A type and an optional name, read up to one of `stops`.
    private struct Declaration {
        var type: CType
        var column: Int
        var name: String?
        var nameColumn: Int
    }

    /// Reads `type [NAME]` up to a token in `stops` (not consumed).
    private mutating func declaration(before stops: [PrototypeToken.Kind], what: String) throws -> Declaration {
        let start = position
        while !stops.contains(current.kind) {
            switch current.kind {
            case .word, .star: position += 1
            case .end:
                let open = tokens[..<position].last { $0.kind == .open }
                throw error(open?.column ?? current.column, open != nil
                    ? "unbalanced parentheses: the '(' at column \(open!.column) is never closed"
                    : "expected '(' and the parameters after \(what)")
            case .open: throw error(current.column, "unexpected '(' in \(what): function pointers and parenthesised declarators are not supported")
            case .close: throw error(current.column, "unbalanced parentheses: ')' without a matching '('")
            case .other("..."): throw error(current.column, "variadic functions ('...') are not supported: declare every parameter")
            case .other("["): throw error(current.column, "arrays are not supported: pass a buffer as 'const float *x, size_t n'")
            case .other(let c): throw error(current.column, "unexpected character '\(c)'")
            default: throw error(current.column, "unexpected '\(current.text)' in \(what)")
            }
        }
        var parts = Array(tokens[start..<position])
        guard let first = parts.first else { throw error(current.column, "expected \(what) before '\(current.text)'") }
        var name: String?, nameColumn = first.column
        if parts.count > 1, case .word(let last) = parts.last!.kind {
            if Self.reserved.contains(last) {
                throw error(parts.last!.column, "'\(last)' is a C keyword or type, not a name")
            }
            name = last; nameColumn = parts.last!.column
            parts.removeLast()
            if parts.count == 1, case .word(let tag) = first.kind, ["struct", "union", "enum"].contains(tag) {
                throw error(first.column, "unsupported type '\(tag) \(last)'")  // `struct foo` without a name
            }
        }
        let spelling = Self.spelling(of: parts)
        if name == nil, parts.count == 1, case .word(let word) = first.kind, !Self.reserved.contains(word) {
            throw error(first.column, "\(what) ('\(word)') has no type: write e.g. 'double \(word)'")
        }
        guard let type = Self.type(spelled: spelling) else {
            let fix = CType.replacement(for: spelling).map { ": write \($0)" } ?? ""
            throw error(first.column, "unsupported type '\(spelling)'\(fix)")
        }
        return Declaration(type: type, column: first.column, name: name, nameColumn: nameColumn)
    }

    /// "const float *", "unsigned int", "float **" from type tokens.
    private static func spelling(of parts: [PrototypeToken]) -> String {
        var s = ""
        for (i, part) in parts.enumerated() {
            if part.kind == .star {
                s += i > 0 && parts[i - 1].kind != .star ? " *" : "*"
            } else {
                s += i > 0 && parts[i - 1].kind != .star ? " " + part.text : part.text
            }
        }
        return s
    }

    /// The supported type of that spelling, if any.
    private static func type(spelled spelling: String) -> CType? {
        if let scalar = CType.scalars[spelling] { return scalar }
        return [CType.string, CType.constFloats, CType.floats].first { $0.spelling == spelling }
    }
}
