/// One tensor of a safetensors file: its name, element type, shape and where its bytes lie.
public struct SafetensorsEntry: Equatable, Sendable {
    /// The tensor's key in the header.
    public let name: String
    /// Element type.
    public let dtype: SafetensorsDType
    /// Extent of each dimension (empty for a scalar).
    public let shape: [Int]
    /// Byte range within the data region (the bytes after the header): the header's
    /// `data_offsets` [begin, end).
    public let dataOffsets: Range<Int>

    /// Number of elements: the product of `shape` (1 for a scalar); checked not to overflow
    /// when the entry was made.
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A safetensors file that is not valid, or tensors that cannot be written as one: what is
/// wrong (the caller adds the file's path).
public struct SafetensorsFormatError: Error, CustomStringConvertible {
    /// What is wrong, naming the tensor or key when there is one.
    public let reason: String
    public var description: String { reason }
}

/// The structure of a safetensors file (https://github.com/huggingface/safetensors): an
/// unsigned 64-bit little-endian header length N, N bytes of UTF-8 JSON
/// `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}}`
/// (padded with spaces so the data starts 8-byte aligned), then the data region, which the
/// tensors cover exactly, in offset order, without gaps or overlaps.
///
/// A pure parser and writer over bytes (standard library only, no Tensor, no I/O), so the
/// fuzz target (Tests/Fuzz/safetensors) can compile it alone. `parse` applies every rule of
/// the reference implementation (`Metadata::validate` and `read_metadata` in
/// safetensors/src/tensor.rs) and, stricter than it, refuses duplicate keys, which its README
/// disallows but its JSON parser lets through. Memory stays proportional to the header: no
/// size declared in the file is allocated.
public struct SafetensorsLayout: Equatable, Sendable {
    /// The largest header accepted, as in the reference implementation.
    public static let maxHeaderLength = 100_000_000

    /// The tensors in data order (increasing offsets).
    public let entries: [SafetensorsEntry]
    /// The `__metadata__` map (empty when the file has none).
    public let metadata: [String: String]

    /// Size of the data region: the end of the last tensor.
    public var dataLength: Int { entries.last?.dataOffsets.upperBound ?? 0 }

    /// Lays out tensors for writing in the reference writer's order (widest dtype first, then
    /// name by UTF-8 bytes), each right after the previous one, so the same tensors always
    /// give the same file. Throws on a repeated or reserved name, a negative dimension, or a
    /// size that overflows.
    public init(laying tensors: [(name: String, dtype: SafetensorsDType, shape: [Int])], metadata: [String: String] = [:]) throws {
        var names = Set<String>()
        var sized: [(name: String, dtype: SafetensorsDType, shape: [Int], bytes: Int)] = []
        for tensor in tensors {
            let name = StrictJSONReader.quote(tensor.name)
            guard tensor.name != Self.metadataKey else {
                throw SafetensorsFormatError(reason: "'\(Self.metadataKey)' is reserved for the metadata map and cannot name a tensor")
            }
            guard names.insert(tensor.name).inserted else {
                throw SafetensorsFormatError(reason: "two tensors are named \(name) (names compare as Unicode text)")
            }
            let bytes = try Self.byteCount(name: name, dtype: tensor.dtype, shape: tensor.shape)
            sized.append((tensor.name, tensor.dtype, tensor.shape, bytes))
        }
        sized.sort { a, b in
            a.dtype.alignmentRank != b.dtype.alignmentRank
                ? a.dtype.alignmentRank > b.dtype.alignmentRank
                : a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        var offset = 0
        var entries: [SafetensorsEntry] = []
        for tensor in sized {
            let (end, overflow) = offset.addingReportingOverflow(tensor.bytes)
            guard !overflow else { throw SafetensorsFormatError(reason: "the tensors' total size overflows 64 bits") }
            entries.append(SafetensorsEntry(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, dataOffsets: offset..<end))
            offset = end
        }
        self.entries = entries
        self.metadata = metadata
    }

    /// Parses and validates a whole file. Returns the layout and the file offset where the
    /// data region starts (8 + the header length). Throws `SafetensorsFormatError` saying what
    /// is wrong: the first rule broken, in the order the file is read.
    public static func parse(_ file: UnsafeRawBufferPointer) throws -> (layout: SafetensorsLayout, dataStart: Int) {
        guard file.count >= 8 else {
            throw SafetensorsFormatError(reason: "the file is \(file.count) bytes long, too short for the 8-byte header length that starts a safetensors file")
        }
        let declared = UInt64(littleEndian: file.loadUnaligned(as: UInt64.self))
        guard declared <= UInt64(maxHeaderLength) else {
            throw SafetensorsFormatError(reason: "the header length \(declared) is over the limit of \(maxHeaderLength) bytes")
        }
        let headerLength = Int(declared)
        guard headerLength <= file.count - 8 else {
            throw SafetensorsFormatError(reason: "the header length \(headerLength) runs past the end of the file (\(file.count) bytes): the file is truncated")
        }
        let dataStart = 8 + headerLength
        let header = UnsafeRawBufferPointer(rebasing: file[8..<dataStart])
        guard isValidUTF8(header) else { throw SafetensorsFormatError(reason: "the header is not valid UTF-8 text") }
        var reader = StrictJSONReader(header)
        do {
            let layout = try readHeader(&reader, dataRegion: file.count - dataStart)
            return (layout, dataStart)
        } catch let error as StrictJSONError {
            throw SafetensorsFormatError(reason: "invalid header at byte \(8 + error.offset) of the file: \(error.problem)")
        }
    }

    /// The file's first bytes: the 8-byte header length and the JSON header padded with
    /// spaces to a multiple of 8. Formatted as the reference writer (serde_json, compact)
    /// formats it: `__metadata__` first (keys sorted by UTF-8 bytes; omitted when empty),
    /// then the tensors in `entries` order with fields dtype, shape, data_offsets.
    public func encodedHeader() -> [UInt8] {
        var json: [UInt8] = [UInt8(ascii: "{")]
        var separator: [UInt8] = []
        if !metadata.isEmpty {
            Self.appendString(Self.metadataKey, to: &json)
            json.append(contentsOf: ":{".utf8)
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 { json.append(UInt8(ascii: ",")) }
                Self.appendString(key, to: &json)
                json.append(UInt8(ascii: ":"))
                Self.appendString(metadata[key]!, to: &json)
            }
            json.append(UInt8(ascii: "}"))
            separator = [UInt8(ascii: ",")]
        }
        for entry in entries {
            json.append(contentsOf: separator)
            separator = [UInt8(ascii: ",")]
            Self.appendString(entry.name, to: &json)
            json.append(contentsOf: ":{\"dtype\":".utf8)
            Self.appendString(entry.dtype.rawValue, to: &json)
            json.append(contentsOf: ",\"shape\":[\(entry.shape.map(String.init).joined(separator: ","))]".utf8)
            json.append(contentsOf: ",\"data_offsets\":[\(entry.dataOffsets.lowerBound),\(entry.dataOffsets.upperBound)]}".utf8)
        }
        json.append(UInt8(ascii: "}"))
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var length = UInt64(json.count).littleEndian
        return withUnsafeBytes(of: &length) { Array($0) } + json
    }

    /// The reserved header key of the metadata map.
    static let metadataKey = "__metadata__"

    private init(entries: [SafetensorsEntry], metadata: [String: String]) {
        self.entries = entries
        self.metadata = metadata
    }

    // MARK: Reading the header

    /// Reads the header object and checks that the tensors cover the `dataRegion` bytes
    /// after it exactly.
    private static func readHeader(_ reader: inout StrictJSONReader, dataRegion: Int) throws -> SafetensorsLayout {
        let kind = try reader.peekKind()
        guard kind == .object else { throw SafetensorsFormatError(reason: "the header is \(kind.rawValue), not a JSON object") }
        var cursor = try reader.openObject()
        var entries: [SafetensorsEntry] = []
        var metadata: [String: String] = [:]
        while let key = try reader.nextMember(&cursor) {
            if key == metadataKey {
                metadata = try readMetadata(&reader)
            } else {
                entries.append(try readEntry(named: key, &reader, dataRegion: dataRegion))
            }
        }
        try reader.finish()
        entries.sort { a, b in
            (a.dataOffsets.lowerBound, a.dataOffsets.upperBound) != (b.dataOffsets.lowerBound, b.dataOffsets.upperBound)
                ? (a.dataOffsets.lowerBound, a.dataOffsets.upperBound) < (b.dataOffsets.lowerBound, b.dataOffsets.upperBound)
                : a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        try checkCoverage(entries, dataRegion: dataRegion)
        return SafetensorsLayout(entries: entries, metadata: metadata)
    }

    /// Reads the `__metadata__` value: a map of strings, or null (no metadata).
    private static func readMetadata(_ reader: inout StrictJSONReader) throws -> [String: String] {
        if try reader.readNull() { return [:] }
        let kind = try reader.peekKind()
        guard kind == .object else {
            throw SafetensorsFormatError(reason: "'\(metadataKey)' is \(kind.rawValue); it must be an object of string values")
        }
        var metadata: [String: String] = [:]
        var cursor = try reader.openObject()
        while let key = try reader.nextMember(&cursor) {
            let valueKind = try reader.peekKind()
            guard valueKind == .string else {
                throw SafetensorsFormatError(reason: "'\(metadataKey)' key \(StrictJSONReader.quote(key)) holds \(valueKind.rawValue); metadata values must be strings")
            }
            metadata[key] = try reader.readString()
        }
        return metadata
    }

    /// Reads and validates one tensor's `{dtype, shape, data_offsets}` (other fields are
    /// skipped, as the reference does) against the data region's size.
    private static func readEntry(named key: String, _ reader: inout StrictJSONReader, dataRegion: Int) throws -> SafetensorsEntry {
        let name = StrictJSONReader.quote(key)
        func fail(_ problem: String) -> SafetensorsFormatError {
            SafetensorsFormatError(reason: "tensor \(name): \(problem)")
        }
        let kind = try reader.peekKind()
        guard kind == .object else { throw fail("expected an object with dtype, shape and data_offsets, found \(kind.rawValue)") }
        var dtype: SafetensorsDType?
        var shape: [Int]?
        var offsets: [Int]?
        var cursor = try reader.openObject()
        while let field = try reader.nextMember(&cursor) {
            switch field {
            case "dtype":
                let valueKind = try reader.peekKind()
                guard valueKind == .string else { throw fail("dtype is \(valueKind.rawValue), not a string") }
                let text = try reader.readString()
                guard let known = SafetensorsDType(rawValue: text) else {
                    throw fail("unknown dtype \(StrictJSONReader.quote(text)) (known: \(SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                dtype = known
            case "shape":
                shape = try readIntegers(&reader, what: "shape", fail: fail)
            case "data_offsets":
                let pair = try readIntegers(&reader, what: "data_offsets", fail: fail)
                guard pair.count == 2 else { throw fail("data_offsets has \(pair.count) entries; it must be [begin, end]") }
                offsets = pair
            default:
                try reader.skipValue()
            }
        }
        guard let dtype else { throw fail("no dtype") }
        guard let shape else { throw fail("no shape") }
        guard let offsets else { throw fail("no data_offsets") }
        let bytes = try byteCount(name: name, dtype: dtype, shape: shape)
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end else { throw fail("data_offsets [\(begin), \(end)] end before they begin") }
        guard end <= dataRegion else {
            throw fail("data_offsets [\(begin), \(end)] run past the end of the data, which is \(dataRegion) bytes long: the file is truncated")
        }
        guard end - begin == bytes else {
            throw fail("data_offsets [\(begin), \(end)] hold \(end - begin) bytes, but \(dtype.rawValue) of shape \(text(shape)) needs \(bytes)")
        }
        return SafetensorsEntry(name: key, dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }

    /// Reads an array of non-negative integers that fit in `Int` (shape, data_offsets).
    private static func readIntegers(_ reader: inout StrictJSONReader, what: String,
                                     fail: (String) -> SafetensorsFormatError) throws -> [Int] {
        let kind = try reader.peekKind()
        guard kind == .array else { throw fail("\(what) is \(kind.rawValue), not a list of non-negative integers") }
        var values: [Int] = []
        var cursor = try reader.openArray()
        while try reader.nextElement(&cursor) {
            let elementKind = try reader.peekKind()
            guard elementKind == .number else { throw fail("\(what) holds \(elementKind.rawValue); it must hold non-negative integers") }
            let number = try reader.readNumber()
            guard number.isPlainInteger else { throw fail("\(what) entry \(number.text) is not a non-negative integer") }
            guard let value = number.unsigned, value <= UInt64(Int.max) else {
                throw fail("\(what) entry \(number.text) is too large (the limit is \(Int.max))")
            }
            values.append(Int(value))
        }
        return values
    }

    /// Checks that the sorted `entries` tile [0, dataRegion) with no gap or overlap.
    private static func checkCoverage(_ entries: [SafetensorsEntry], dataRegion: Int) throws {
        var end = 0
        var previous: SafetensorsEntry?
        for entry in entries {
            let name = StrictJSONReader.quote(entry.name)
            let range = "[\(entry.dataOffsets.lowerBound), \(entry.dataOffsets.upperBound))"
            if entry.dataOffsets.lowerBound > end {
                let gap = entry.dataOffsets.lowerBound - end
                if let previous {
                    throw SafetensorsFormatError(reason: "\(gap) bytes between tensor \(StrictJSONReader.quote(previous.name)) (ending at \(end)) and tensor \(name) (bytes \(range)) belong to no tensor")
                }
                throw SafetensorsFormatError(reason: "the first \(gap) bytes of the data belong to no tensor (the first tensor, \(name), has bytes \(range))")
            }
            if entry.dataOffsets.lowerBound < end, let previous {
                throw SafetensorsFormatError(reason: "tensor \(name) (bytes \(range)) overlaps tensor \(StrictJSONReader.quote(previous.name)) (ending at \(end))")
            }
            end = entry.dataOffsets.upperBound
            previous = entry
        }
        guard end == dataRegion else {
            throw SafetensorsFormatError(reason: "\(dataRegion - end) bytes after the last tensor belong to no tensor (the data is \(dataRegion) bytes, the tensors end at \(end))")
        }
    }

    // MARK: Shared helpers

    /// The byte size of `dtype` × `shape`, or an error naming the tensor (`name`, quoted)
    /// when a dimension is negative, the size overflows 64 bits, or sub-byte elements do not
    /// fill whole bytes.
    private static func byteCount(name: String, dtype: SafetensorsDType, shape: [Int]) throws -> Int {
        // Elements first, then bits, as the reference counts (so [2^62, 0] is an empty tensor).
        var elements = 1
        var overflow = false
        for dimension in shape {
            guard dimension >= 0 else {
                throw SafetensorsFormatError(reason: "tensor \(name): shape \(text(shape)) has the negative dimension \(dimension)")
            }
            let (product, overflowed) = elements.multipliedReportingOverflow(by: dimension)
            elements = product
            overflow = overflow || overflowed
        }
        let (bits, bitsOverflow) = elements.multipliedReportingOverflow(by: dtype.bits)
        guard !overflow && !bitsOverflow else {
            throw SafetensorsFormatError(reason: "tensor \(name): the size of \(dtype.rawValue) of shape \(text(shape)) overflows 64 bits")
        }
        guard bits % 8 == 0 else {
            throw SafetensorsFormatError(reason: "tensor \(name): \(elements) elements of \(dtype.rawValue) (\(dtype.bits) bits each) do not fill whole bytes")
        }
        return bits / 8
    }

    /// A shape for a message: "[2, 3]", the first 8 dimensions of a longer one.
    private static func text(_ shape: [Int]) -> String {
        let shown = shape.prefix(8).map(String.init).joined(separator: ", ")
        return "[" + shown + (shape.count > 8 ? ", … (\(shape.count) dimensions)]" : "]")
    }

    /// Whether `bytes` are well-formed UTF-8 (checked without copying them).
    private static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// Appends `string` as a JSON string literal, escaped as serde_json escapes: `"`, `\`
    /// and control characters (short forms \b \f \n \r \t, else \u00XX); everything else,
    /// non-ASCII included, as is.
    private static func appendString(_ string: String, to json: inout [UInt8]) {
        json.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): json.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): json.append(contentsOf: "\\\\".utf8)
            case 0x08: json.append(contentsOf: "\\b".utf8)
            case 0x0C: json.append(contentsOf: "\\f".utf8)
            case 0x0A: json.append(contentsOf: "\\n".utf8)
            case 0x0D: json.append(contentsOf: "\\r".utf8)
            case 0x09: json.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                json.append(contentsOf: "\\u00".utf8)
                json.append(hex[Int(byte >> 4)])
                json.append(hex[Int(byte & 0xF)])
            default: json.append(byte)
            }
        }
        json.append(UInt8(ascii: "\""))
    }
}
