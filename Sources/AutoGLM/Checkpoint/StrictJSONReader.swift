/// A strict pull reader for JSON (RFC 8259) over a byte buffer, made for safetensors headers.
///
/// The caller walks the document it expects (`openObject`/`nextMember`, `openArray`/
/// `nextElement`, `readString`, `readNumber`, `skipValue`), so only what it keeps is
/// allocated. Stricter than Foundation's parser where that matters for a file format: a key
/// repeated in an object is an error (keys compare as Swift strings, i.e. canonically
/// equivalent spellings are the same key), numbers keep their exact text, lone UTF-16
/// surrogate escapes are refused, and nesting deeper than `maxDepth` is refused instead of
/// recursing without bound. Standard library only (no Foundation): the fuzz target compiles
/// this file on its own together with `SafetensorsLayout.swift`.
struct StrictJSONReader {
    /// The document. Must stay valid while the reader is used.
    let bytes: UnsafeRawBufferPointer
    /// Offset of the next byte to read.
    private(set) var position = 0
    /// Objects and arrays currently open.
    private var depth = 0
    /// Deepest nesting of objects and arrays accepted (serde_json, which the reference
    /// safetensors implementation uses, stops at 128 too).
    static let maxDepth = 128

    /// Reads `bytes`, which must hold one JSON value with optional surrounding whitespace.
    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The kind of a JSON value, for "expected …, found …" messages.
    enum Kind: String {
        case object = "an object", array = "an array", string = "a string", number = "a number"
        case bool = "a boolean", null = "null"
    }

    /// Where an object being read stands: whether a member was read, and the keys seen.
    struct ObjectCursor {
        fileprivate var first = true
        fileprivate var keys: Set<String> = []
    }

    /// Where an array being read stands: whether an element was read.
    struct ArrayCursor {
        fileprivate var first = true
    }

    /// A JSON number: its text (shortened for messages when long) and its value when it is a
    /// plain non-negative integer (no sign, fraction or exponent) that fits in 64 bits.
    struct Number {
        /// The number as written, at most 40 characters (longer ones end in "…").
        let text: String
        /// Whether it is written as digits only (no sign, fraction or exponent).
        let isPlainInteger: Bool
        /// The value, when the number is plain and at most UInt64.max; nil otherwise.
        let unsigned: UInt64?
    }

    // MARK: Values

    /// The kind of the next value, after skipping whitespace; nothing is consumed.
    mutating func peekKind() throws -> Kind {
        skipWhitespace()
        guard let byte = peek() else { throw error("unexpected end of the header, expected a value") }
        switch byte {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        default: throw error("unexpected \(Self.describe(byte)), expected a value")
        }
    }

    /// Consumes `{` and returns the cursor to pass to `nextMember`.
    mutating func openObject() throws -> ObjectCursor {
        try open(UInt8(ascii: "{"))
        return ObjectCursor()
    }

    /// The key of the object's next member (its `:` consumed, the value is next), or nil at
    /// the closing `}` (consumed). Throws on a key seen before in this object.
    mutating func nextMember(_ cursor: inout ObjectCursor) throws -> String? {
        guard try nextItem(first: &cursor.first, closing: UInt8(ascii: "}")) else { return nil }
        skipWhitespace()
        guard let quote = peek() else { throw error("unexpected end of the header, expected a string key") }
        guard quote == UInt8(ascii: "\"") else { throw error("unexpected \(Self.describe(quote)), expected a string key") }
        let keyStart = position
        let key = try readString()
        guard cursor.keys.insert(key).inserted else {
            throw StrictJSONError(offset: keyStart, problem: "the key \(Self.quote(key)) appears twice in one object")
        }
        skipWhitespace()
        try consume(UInt8(ascii: ":"), expected: "':' after the key")
        return key
    }

    /// Consumes `[` and returns the cursor to pass to `nextElement`.
    mutating func openArray() throws -> ArrayCursor {
        try open(UInt8(ascii: "["))
        return ArrayCursor()
    }

    /// Whether the array has another element (which is next), false at the closing `]`
    /// (consumed).
    mutating func nextElement(_ cursor: inout ArrayCursor) throws -> Bool {
        try nextItem(first: &cursor.first, closing: UInt8(ascii: "]"))
    }

    /// Reads a string value (escapes decoded).
    mutating func readString() throws -> String {
        skipWhitespace()
        try consume(UInt8(ascii: "\""), expected: "a string")
        var utf8: [UInt8] = []
        while true {
            guard let byte = peek() else { throw error("unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                // The caller checked the whole header is UTF-8 and escapes are encoded
                // correctly below; validating again costs little and keeps this reader safe
                // on its own.
                guard let string = String(validating: utf8, as: UTF8.self) else {
                    throw error("string is not valid UTF-8")
                }
                return string
            case UInt8(ascii: "\\"):
                position += 1
                try readEscape(into: &utf8)
            case 0..<0x20:
                throw error("control character \(Self.describe(byte)) inside a string (it must be escaped)")
            default:
                utf8.append(byte)
                position += 1
            }
        }
    }

    /// Reads a number value, keeping its text.
    mutating func readNumber() throws -> Number {
        skipWhitespace()
        let start = position
        var plain = true  // no sign, fraction or exponent
        if peek() == UInt8(ascii: "-") { position += 1; plain = false }
        guard let first = peek(), Self.isDigit(first) else { throw error("expected a digit") }
        if first == UInt8(ascii: "0") {
            position += 1
            if let next = peek(), Self.isDigit(next) { throw error("number with a leading zero") }
        } else {
            skipDigits()
        }
        if peek() == UInt8(ascii: ".") {
            position += 1
            plain = false
            guard let next = peek(), Self.isDigit(next) else { throw error("expected a digit after '.'") }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            plain = false
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let next = peek(), Self.isDigit(next) else { throw error("expected a digit in the exponent") }
            skipDigits()
        }
        let digits = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
        return Number(text: Self.shortened(digits), isPlainInteger: plain, unsigned: plain ? Self.unsignedValue(digits) : nil)
    }

    /// Skips one value of any kind, checking its syntax (and duplicate keys in its objects).
    mutating func skipValue() throws {
        switch try peekKind() {
        case .object:
            var cursor = try openObject()
            while try nextMember(&cursor) != nil { try skipValue() }
        case .array:
            var cursor = try openArray()
            while try nextElement(&cursor) { try skipValue() }
        case .string:
            _ = try readString()
        case .number:
            _ = try readNumber()
        case .bool:
            if !literal("true") && !literal("false") { throw error("invalid literal, expected true or false") }
        case .null:
            if !literal("null") { throw error("invalid literal, expected null") }
        }
    }

    /// Consumes `null` if it is next; false (nothing consumed) when another kind of value is.
    mutating func readNull() throws -> Bool {
        guard try peekKind() == .null else { return false }
        guard literal("null") else { throw error("invalid literal, expected null") }
        return true
    }

    /// Checks that only whitespace follows the value read.
    mutating func finish() throws {
        skipWhitespace()
        if let byte = peek() { throw error("unexpected \(Self.describe(byte)) after the end of the JSON value") }
    }

    // MARK: Helpers

    /// Consumes `opening` and enters one level of nesting.
    private mutating func open(_ opening: UInt8) throws {
        skipWhitespace()
        try consume(opening, expected: "'\(Character(Unicode.Scalar(opening)))'")
        depth += 1
        guard depth <= Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth) levels") }
    }

    /// Moves to the next item of an object or array: false (and the level closed) at
    /// `closing`, true after the separating comma (or before the first item).
    private mutating func nextItem(first: inout Bool, closing: UInt8) throws -> Bool {
        skipWhitespace()
        if peek() == closing {
            position += 1
            depth -= 1
            return false
        }
        if first {
            first = false
        } else {
            try consume(UInt8(ascii: ","), expected: "',' or '\(Character(Unicode.Scalar(closing)))'")
        }
        return true
    }

    /// Decodes the escape after a backslash into `utf8`.
    private mutating func readEscape(into utf8: inout [UInt8]) throws {
        guard let byte = peek() else { throw error("unterminated string") }
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var code = UInt32(try readHex4())
            if (0xD800..<0xDC00).contains(code) {
                guard literal("\\u") else { throw error("unpaired UTF-16 surrogate in a \\u escape") }
                let low = UInt32(try readHex4())
                guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired UTF-16 surrogate in a \\u escape") }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(code) {
                throw error("unpaired UTF-16 surrogate in a \\u escape")
            }
            // Not a surrogate, so a valid scalar.
            utf8.append(contentsOf: UTF8.encode(Unicode.Scalar(code)!)!)
        default:
            position -= 1
            throw error("invalid escape: backslash followed by \(Self.describe(byte))")
        }
    }

    /// Reads the four hex digits of a `\u` escape.
    private mutating func readHex4() throws -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let byte = peek(), let digit = Self.hexValue(byte) else { throw error("expected four hex digits after \\u") }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }

    /// Consumes `text` if it comes next; false (nothing consumed) otherwise.
    private mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard bytes.count - position >= count else { return false }
        let expected = UnsafeRawBufferPointer(start: text.utf8Start, count: count)
        guard bytes[position..<position + count].elementsEqual(expected) else { return false }
        position += count
        return true
    }

    /// Consumes `byte` or throws "expected `expected`".
    private mutating func consume(_ byte: UInt8, expected: String) throws {
        guard let found = peek() else { throw error("unexpected end of the header, expected \(expected)") }
        guard found == byte else { throw error("unexpected \(Self.describe(found)), expected \(expected)") }
        position += 1
    }

    /// The next byte, or nil at the end.
    private func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    /// Skips JSON whitespace (space, tab, line feed, carriage return).
    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    /// Skips a run of decimal digits.
    private mutating func skipDigits() {
        while let byte = peek(), Self.isDigit(byte) { position += 1 }
    }

    /// A syntax error at the current position.
    private func error(_ problem: String) -> StrictJSONError {
        StrictJSONError(offset: position, problem: problem)
    }

    /// Whether `byte` is an ASCII decimal digit.
    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// The value of an ASCII hex digit.
    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// The value of a run of decimal digits, nil when it exceeds UInt64.max.
    private static func unsignedValue(_ digits: UnsafeRawBufferPointer) -> UInt64? {
        var value: UInt64 = 0
        for byte in digits {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return value
    }

    /// The ASCII `text` for a message, cut to 40 characters.
    private static func shortened(_ text: UnsafeRawBufferPointer) -> String {
        let limit = 40
        let head = String(decoding: text.prefix(limit), as: UTF8.self)
        return text.count > limit ? head + "…" : head
    }

    /// `key` in single quotes for a message, cut to 60 characters.
    static func quote(_ key: String) -> String {
        let limit = 60
        return "'" + (key.count > limit ? String(key.prefix(limit)) + "…" : key) + "'"
    }

    /// A byte for a message: the character when printable ASCII, else its hex value.
    static func describe(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x" + String(byte, radix: 16, uppercase: true)
    }
}

/// A JSON syntax error: where (byte offset in the document) and what.
struct StrictJSONError: Error {
    /// Byte offset in the document.
    let offset: Int
    /// What is wrong there.
    let problem: String
}
