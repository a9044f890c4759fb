@testable import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// The safetensors format as AutoGLM writes and reads it: the reference implementation's
/// exact bytes, deterministic and aligned output, every rule a malformed file breaks (each
/// with its message), element-type conversion, and the fuzz corpus.
final class SafetensorsFormatTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try PluginBuilder.temporaryDirectory("autoglm-safetensors")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: Writing

    func testWriterProducesTheReferenceImplementationsBytes() throws {
        // Expected bytes from the reference's own tests (safetensors/src/tensor.rs:
        // test_serialization, test_serialization_forced_alignement, test_empty).
        let values: [Float] = [0, 1, 2, 3, 4, 5]
        let attn0 = try bytes(of: [("attn.0", Tensor(shape: [1, 2, 3], values: values))])
        XCTAssertEqual(attn0, [
            64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
            116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
            58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
            101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
            0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
        ])
        let padded = try bytes(of: [("attn0", Tensor(shape: [1, 1, 2, 3], values: values))])
        XCTAssertEqual(padded, [
            72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
            121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
            91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
            115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
            32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
            160, 64,
        ])
        XCTAssertEqual(try bytes(of: []), [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32])
        XCTAssertEqual(try bytes(of: [], metadata: ["framework": "pt"]), [
            40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
            95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
            116, 34, 125, 125, 32, 32, 32, 32, 32,
        ])
    }

    func testSameTensorsGiveByteIdenticalFilesWhateverTheOrder() throws {
        let a = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3], values: [-1, 0.5, 1e-30])
        let c = Tensor(shape: [], values: [42])
        let metadata = ["step": "12", "format": "autoglm", "z": "last"]
        let first = try bytes(of: [("b", b), ("a.weight", a), ("c", c)], metadata: metadata)
        let second = try bytes(of: [("c", c), ("b", b), ("a.weight", a)], metadata: metadata)
        XCTAssertEqual(first, second)
        // And the layout is the reference writer's: by name (UTF-8 bytes), data in that order.
        let (layout, _) = try first.withUnsafeBytes { try SafetensorsLayout.parse($0) }
        XCTAssertEqual(layout.entries.map(\.name), ["a.weight", "b", "c"])
        XCTAssertEqual(layout.entries.map(\.dataOffsets), [0..<24, 24..<36, 36..<40])
        let header = String(decoding: first[8..<(8 + Int(first[0]))], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix(#"{"__metadata__":{"format":"autoglm","step":"12","z":"last"},"a.weight":"#), header)
    }

    func testHeaderIsPaddedWithSpacesSoTheDataIsAligned() throws {
        for length in 1...16 {
            let name = String(repeating: "n", count: length)
            let file = try bytes(of: [(name, Tensor(shape: [1], values: [7]))])
            let headerLength = file.withUnsafeBytes { Int($0.loadUnaligned(as: UInt64.self)) }
            XCTAssertEqual(headerLength % 8, 0, "name length \(length)")
            let json = file[8..<(8 + headerLength)]
            let end = json.lastIndex(of: UInt8(ascii: "}"))!
            XCTAssertTrue(json[(end + 1)...].allSatisfy { $0 == UInt8(ascii: " ") })
            XCTAssertLessThan(json.count - (end - 8 + 1), 8, "at most 7 padding bytes")
            XCTAssertEqual(file.count, 8 + headerLength + 4)
        }
    }

    func testRoundTripKeepsEveryValueShapeAndMetadata() throws {
        var rng = RandomGenerator(seed: 5)
        let big = Tensor(shape: [17, 33], values: (0..<(17 * 33)).map { _ in Float(rng.normal()) })
        let special = Tensor(shape: [6], values: [.infinity, -.infinity, .nan, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude])
        let scalar = Tensor(shape: [], values: [3.5])
        let empty = Tensor(zeros: [3, 0])
        let tensors = [("blocks.0.attn.qkv.weight", big), ("special", special), ("scalar", scalar), ("empty", empty),
                       ("naïve \"quoted\"\n\u{1}", Tensor(shape: [1], values: [1]))]
        let metadata = ["format": "autoglm", "step": "300", "note": "tab\there \u{2028} \"q\" \\ é 😀", "": ""]
        let url = directory.appendingPathComponent("model.safetensors")
        try Safetensors.write(tensors, metadata: metadata, to: url)
        let (read, readMetadata) = try Safetensors.read(from: url)
        XCTAssertEqual(readMetadata, metadata)
        XCTAssertEqual(Set(read.keys), Set(tensors.map(\.0)))
        for (name, tensor) in tensors {
            let loaded = try XCTUnwrap(read[name])
            XCTAssertEqual(loaded.shape, tensor.shape, name)
            XCTAssertEqual(loaded.values.map(\.bitPattern), tensor.values.map(\.bitPattern), name)
        }
    }

    func testWriterRefusesRepeatedAndReservedNames() throws {
        let url = directory.appendingPathComponent("model.safetensors")
        let t = Tensor(shape: [1], values: [1])
        XCTAssertThrowsError(try Safetensors.write([("w", t), ("w", t)], to: url)) { error in
            XCTAssertEqual("\(error)", "\(url.path): cannot write these tensors: two tensors are named 'w' (names compare as Unicode text)")
        }
        XCTAssertThrowsError(try Safetensors.write([("__metadata__", t)], to: url)) { error in
            XCTAssertTrue("\(error)".contains("'__metadata__' is reserved for the metadata map"), "\(error)")
        }
        // Canonically equivalent spellings are one key for Swift's dictionaries: refused too.
        XCTAssertThrowsError(try Safetensors.write([("\u{E9}", t), ("e\u{301}", t)], to: url))
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }

    // MARK: Reading what the reference accepts

    func testAcceptsWhatTheReferenceAccepts() throws {
        // Whitespace around the object, fields in any order, unknown fields, tensors in any
        // JSON order (the data order is by offsets), scalars, empty tensors, null metadata.
        let header = #"  {"__metadata__":null,"z":{"data_offsets":[4,8],"shape":[1],"extra":[{"k":[1,2.5e3,null,true]}],"dtype":"F32"},"# +
            #""e":{"dtype":"F32","shape":[4611686018427387904,0],"data_offsets":[4,4]},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}"# + "\t\r\n"
        let file = Self.file(header, floats([1.5, -2]), pad: false)
        let (layout, dataStart) = try file.withUnsafeBytes { try SafetensorsLayout.parse($0) }
        XCTAssertEqual(dataStart, 8 + header.utf8.count)
        XCTAssertEqual(layout.metadata, [:])
        XCTAssertEqual(layout.entries, [
            SafetensorsEntry(name: "a", dtype: .f32, shape: [], dataOffsets: 0..<4),
            SafetensorsEntry(name: "e", dtype: .f32, shape: [1 << 62, 0], dataOffsets: 4..<4),
            SafetensorsEntry(name: "z", dtype: .f32, shape: [1], dataOffsets: 4..<8),
        ])
        let url = directory.appendingPathComponent("loose.safetensors")
        try Data(file).write(to: url)
        let (tensors, _) = try Safetensors.read(from: url)
        XCTAssertEqual(tensors["a"]?.values, [1.5])
        XCTAssertEqual(tensors["z"]?.values, [-2])
        XCTAssertEqual(tensors["e"]?.count, 0)
    }

    func testValidatesEveryDtypesSizeIncludingSubByteTypes() throws {
        for dtype in SafetensorsDType.allCases {
            let count = 8  // a whole number of bytes for every width (4, 6, 8 … 64 bits)
            let bytes = count * dtype.bits / 8
            let good = Self.file(#"{"t":{"dtype":"\#(dtype.rawValue)","shape":[2,4],"data_offsets":[0,\#(bytes)]}}"#, Array(repeating: 0, count: bytes))
            let (layout, _) = try good.withUnsafeBytes { try SafetensorsLayout.parse($0) }
            XCTAssertEqual(layout.entries.first?.dataOffsets, 0..<bytes, dtype.rawValue)
            let bad = Self.file(#"{"t":{"dtype":"\#(dtype.rawValue)","shape":[2,4],"data_offsets":[0,\#(bytes + 1)]}}"#, Array(repeating: 0, count: bytes + 1))
            XCTAssertThrowsError(try bad.withUnsafeBytes { try SafetensorsLayout.parse($0) }, dtype.rawValue)
        }
        XCTAssertEqual(SafetensorsDType.allCases.map(\.bits).reduce(0, +), 8 + 4 + 6 + 6 + 8 * 7 + 16 * 4 + 32 * 3 + 64 * 4)
    }

    // MARK: Refusing malformed files

    /// Each malformed file with the words its refusal must contain.
    private static let malformed: [(case: String, file: [UInt8], message: String)] = [
        ("empty file", [], "the file is 0 bytes long, too short for the 8-byte header length"),
        ("3 bytes", [8, 0, 0], "the file is 3 bytes long"),
        ("header over the cap", le(100_000_001) + Array("{}".utf8), "the header length 100000001 is over the limit of 100000000 bytes"),
        ("header length 2^64-1", [UInt8](repeating: 0xFF, count: 8) + Array("{}".utf8), "the header length 18446744073709551615 is over the limit"),
        ("header past the end", le(64) + Array("{}      ".utf8), "the header length 64 runs past the end of the file (16 bytes): the file is truncated"),
        ("not UTF-8", file([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]), "the header is not valid UTF-8 text"),
        ("not JSON", file("{"), "invalid header at byte 16 of the file: unexpected end of the header, expected a string key"),
        ("not JSON: bare word", file("hello"), "invalid header at byte 8 of the file: unexpected 'h', expected a value"),
        ("not an object", file("[]"), "the header is an array, not a JSON object"),
        ("not an object: string", file(#""x""#), "the header is a string, not a JSON object"),
        ("duplicate tensor", file(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, [0]),
         "invalid header at byte 61 of the file: the key 'a' appears twice in one object"),
        ("duplicate tensor, canonically equivalent", file("{\"\u{E9}\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]},\"e\u{301}\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}"),
         "appears twice in one object"),
        ("duplicate field", file(#"{"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, [0]), "the key 'dtype' appears twice in one object"),
        ("duplicate metadata key", file(#"{"__metadata__":{"k":"1","k":"2"}}"#), "the key 'k' appears twice in one object"),
        ("duplicate metadata", file(#"{"__metadata__":{},"__metadata__":{}}"#), "the key '__metadata__' appears twice"),
        ("entry not an object", file(#"{"a":3}"#), "tensor 'a': expected an object with dtype, shape and data_offsets, found a number"),
        ("no dtype", file(#"{"a":{"shape":[0],"data_offsets":[0,0]}}"#), "tensor 'a': no dtype"),
        ("no shape", file(#"{"a":{"dtype":"U8","data_offsets":[0,0]}}"#), "tensor 'a': no shape"),
        ("no data_offsets", file(#"{"a":{"dtype":"U8","shape":[0]}}"#), "tensor 'a': no data_offsets"),
        ("dtype not a string", file(#"{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}"#, [0, 0, 0, 0]), "tensor 'a': dtype is a number, not a string"),
        ("unknown dtype", file(#"{"a":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}}"#, [0, 0, 0, 0]),
         "tensor 'a': unknown dtype 'F31' (known: BOOL, F4, F6_E2M3, F6_E3M2, U8, I8, F8_E5M2"),
        ("lower-case dtype", file(#"{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}"#, [0, 0, 0, 0]), "unknown dtype 'f32'"),
        ("shape not a list", file(#"{"a":{"dtype":"U8","shape":"2","data_offsets":[0,2]}}"#, [0, 0]), "tensor 'a': shape is a string, not a list of non-negative integers"),
        ("shape holds a list", file(#"{"a":{"dtype":"U8","shape":[[2]],"data_offsets":[0,2]}}"#, [0, 0]), "tensor 'a': shape holds an array; it must hold non-negative integers"),
        ("negative shape", file(#"{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}"#), "tensor 'a': shape entry -1 is not a non-negative integer"),
        ("minus zero shape", file(#"{"a":{"dtype":"U8","shape":[-0],"data_offsets":[0,0]}}"#), "shape entry -0 is not a non-negative integer"),
        ("fractional shape", file(#"{"a":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}}"#, [0]), "tensor 'a': shape entry 1.0 is not a non-negative integer"),
        ("exponent shape", file(#"{"a":{"dtype":"U8","shape":[1e0],"data_offsets":[0,1]}}"#, [0]), "shape entry 1e0 is not a non-negative integer"),
        ("shape entry over 2^64", file(#"{"a":{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,1]}}"#, [0]),
         "tensor 'a': shape entry 18446744073709551616 is too large (the limit is 9223372036854775807)"),
        ("shape entry over Int.max", file(#"{"a":{"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,1]}}"#, [0]), "is too large"),
        ("leading zero", file(#"{"a":{"dtype":"U8","shape":[01],"data_offsets":[0,1]}}"#, [0]), "number with a leading zero"),
        ("shape product overflow", file(#"{"a":{"dtype":"I32","shape":[2,9223372036854775807],"data_offsets":[0,16]}}"#, [UInt8](repeating: 0, count: 16)),
         "tensor 'a': the size of I32 of shape [2, 9223372036854775807] overflows 64 bits"),
        ("byte size overflow", file(#"{"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,16]}}"#, [UInt8](repeating: 0, count: 16)),
         "the size of F64 of shape [4611686018427387904] overflows 64 bits"),
        ("sub-byte elements", file(#"{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}"#, [0, 0]), "tensor 'a': 3 elements of F4 (4 bits each) do not fill whole bytes"),
        ("data_offsets not a list", file(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":{"0":1}}}"#, [0]), "tensor 'a': data_offsets is an object, not a list"),
        ("data_offsets of 3", file(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}"#, [0]), "tensor 'a': data_offsets has 3 entries; it must be [begin, end]"),
        ("negative offset", file(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}"#, [0]), "tensor 'a': data_offsets entry -1 is not a non-negative integer"),
        ("offsets reversed", file(#"{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}"#, [0, 0, 0, 0]), "tensor 'a': data_offsets [4, 0] end before they begin"),
        ("offsets past the end (truncated)", file(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, [UInt8](repeating: 0, count: 8)),
         "tensor 'a': data_offsets [0, 16] run past the end of the data, which is 8 bytes long: the file is truncated"),
        ("offsets size mismatch", file(#"{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}"#, [UInt8](repeating: 0, count: 12)),
         "tensor 'a': data_offsets [0, 12] hold 12 bytes, but F32 of shape [2, 2] needs 16"),
        ("overlap", file(#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#, [UInt8](repeating: 0, count: 6)),
         "tensor 'b' (bytes [2, 6)) overlaps tensor 'a' (ending at 4)"),
        ("same bytes twice", file(#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#, [0, 0, 0, 0]),
         "tensor 'b' (bytes [0, 4)) overlaps tensor 'a' (ending at 4)"),
        ("empty tensor inside another", file(#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[0],"data_offsets":[2,2]}}"#, [0, 0, 0, 0]),
         "tensor 'b' (bytes [2, 2)) overlaps tensor 'a'"),
        ("hole", file(#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}"#, [UInt8](repeating: 0, count: 6)),
         "2 bytes between tensor 'a' (ending at 2) and tensor 'b' (bytes [4, 6)) belong to no tensor"),
        ("hole at the start", file(#"{"b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]}}"#, [UInt8](repeating: 0, count: 5)),
         "the first 3 bytes of the data belong to no tensor (the first tensor, 'b', has bytes [3, 5))"),
        ("trailing bytes", file(#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#, [UInt8](repeating: 0, count: 5)),
         "3 bytes after the last tensor belong to no tensor (the data is 5 bytes, the tensors end at 2)"),
        ("data but no tensors", file("{}", [1]), "1 bytes after the last tensor belong to no tensor"),
        ("metadata not a map", file(#"{"__metadata__":["x"]}"#), "'__metadata__' is an array; it must be an object of string values"),
        ("metadata value not a string", file(#"{"__metadata__":{"k":1}}"#), "'__metadata__' key 'k' holds a number; metadata values must be strings"),
        ("metadata value null", file(#"{"__metadata__":{"k":null}}"#), "'__metadata__' key 'k' holds null"),
        ("NUL padding", file(Array("{}".utf8) + [0, 0, 0, 0, 0, 0]), "unexpected byte 0x0 after the end of the JSON value"),
        ("garbage after the object", file("{} x"), "unexpected 'x' after the end of the JSON value"),
        ("lone high surrogate", file(#"{"\ud800":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}"#), "unpaired UTF-16 surrogate"),
        ("lone low surrogate", file(#"{"\udc00":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}"#), "unpaired UTF-16 surrogate"),
        ("bad escape", file(#"{"\x":1}"#), "invalid escape: backslash followed by 'x'"),
        ("raw control character", file("{\"a\u{1}\":1}"), "control character byte 0x1 inside a string"),
        ("unterminated string", file(#"{"abc"#), "unterminated string"),
        ("missing colon", file(#"{"a" 1}"#), "unexpected '1', expected ':' after the key"),
        ("missing comma", file(#"{"__metadata__":{"a":"1" "b":"2"}}"#), "unexpected '\"', expected ',' or '}'"),
        ("trailing comma", file(#"{"__metadata__":{"a":"1",}}"#), "unexpected '}', expected a string key"),
        ("bad literal", file(#"{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0],"x":nul}}"#), "invalid literal, expected null"),
        ("deep nesting", file(#"{"a":{"x":"# + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "}}"),
         "nesting deeper than 128 levels"),
    ]

    func testRefusesEveryMalformedFileWithAMessageSayingWhatIsWrong() {
        for (name, file, message) in Self.malformed {
            XCTAssertThrowsError(try file.withUnsafeBytes { try SafetensorsLayout.parse($0) }, name) { error in
                guard let format = error as? SafetensorsFormatError else { return XCTFail("\(name): \(error)") }
                XCTAssertTrue(format.reason.contains(message), "\(name): expected '\(message)' in '\(format.reason)'")
            }
        }
    }

    func testReadNamesTheFileAndRefusesItWhole() throws {
        let url = directory.appendingPathComponent("broken.safetensors")
        let file = Self.file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[4],"data_offsets":[4,20]}}"#, floats([1, 2, 3]))
        try Data(file).write(to: url)
        XCTAssertThrowsError(try Safetensors.read(from: url)) { error in
            XCTAssertEqual("\(error)", "\(url.path): not a valid safetensors file: tensor 'b': data_offsets [4, 20] run past the end of the data, which is 12 bytes long: the file is truncated")
        }
        let missing = directory.appendingPathComponent("missing.safetensors")
        XCTAssertThrowsError(try Safetensors.read(from: missing)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(missing.path): cannot read"), "\(error)")
        }
    }

    func testEveryTruncationOfAValidFileIsRefused() throws {
        let file = try bytes(of: [("a", Tensor(shape: [2], values: [1, 2])), ("b", Tensor(shape: [3], values: [3, 4, 5]))], metadata: ["k": "v"])
        for length in 0..<file.count {
            XCTAssertThrowsError(try file.prefix(length).withUnsafeBytes { try SafetensorsLayout.parse($0) }, "prefix of \(length) bytes")
        }
        XCTAssertNoThrow(try file.withUnsafeBytes { try SafetensorsLayout.parse($0) })
    }

    func testHugeDeclaredShapeIsRefusedBeforeAnythingIsAllocated() throws {
        // 2^42 float32 elements are 16 TiB, far beyond this machine's memory: a reader that
        // allocated the declared tensor before checking it against the file would crash here.
        let url = directory.appendingPathComponent("huge.safetensors")
        let cases = [
            (#"{"a":{"dtype":"F32","shape":[4398046511104],"data_offsets":[0,16]}}"#, "hold 16 bytes, but F32 of shape [4398046511104] needs 17592186044416"),
            (#"{"a":{"dtype":"F32","shape":[4398046511104],"data_offsets":[0,17592186044416]}}"#, "run past the end of the data, which is 16 bytes long"),
            (#"{"a":{"dtype":"F32","shape":[65536,65536,65536,65536],"data_offsets":[0,16]}}"#, "overflows 64 bits"),
        ]
        for (header, message) in cases {
            try Data(Self.file(header, [UInt8](repeating: 0, count: 16))).write(to: url)
            XCTAssertThrowsError(try Safetensors.read(from: url)) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
    }

    // MARK: Element types

    func testConvertsF16BF16AndF64AndRefusesOtherTypesNamingThem() throws {
        let url = directory.appendingPathComponent("mixed.safetensors")
        let half: [UInt16] = [0x3C00, 0xC000, 0x0001, 0x7BFF, 0x7C00, 0x8000]  // 1, -2, 2^-24, 65504, inf, -0
        let brain: [UInt16] = [0x3F80, 0xC0A0, 0x0001]  // 1, -5, the smallest subnormal
        let double: [Double] = [0.1, -1e300, 1e-50]
        var data = half.flatMap(Self.le16) + brain.flatMap(Self.le16)
        data += double.flatMap { Self.le($0.bitPattern) }
        let file = Self.file(#"{"h":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[12,18]},"# +
                             #""d":{"dtype":"F64","shape":[3],"data_offsets":[18,42]}}"#, data)
        try Data(file).write(to: url)
        let (tensors, _) = try Safetensors.read(from: url)
        XCTAssertEqual(tensors["h"]?.shape, [2, 3])
        XCTAssertEqual(tensors["h"]?.values.map(\.bitPattern), [1, -2, 0x1p-24, 65504, .infinity, -0.0].map { Float($0).bitPattern })
        XCTAssertEqual(tensors["b"]?.values, [1, -5, Float(bitPattern: 0x0001_0000)])
        XCTAssertEqual(tensors["d"]?.values, [Float(0.1), -.infinity, 0])

        let other = Self.file(#"{"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"u":{"dtype":"U8","shape":[2],"data_offsets":[8,10]},"# +
                              #""f":{"dtype":"F32","shape":[1],"data_offsets":[10,14]}}"#, [UInt8](repeating: 0, count: 14))
        try Data(other).write(to: url)
        XCTAssertThrowsError(try Safetensors.read(from: url)) { error in
            XCTAssertEqual("\(error)", "\(url.path): cannot load tensors 'i' (I64), 'u' (U8): AutoGLM loads F32, F16, BF16 and F64 tensors (as float32); convert the others to float32 before loading")
        }
    }

    #if !(os(macOS) && arch(x86_64))  // Float16 exists everywhere else Swift runs
    func testHalfConversionMatchesFloat16ForEveryBitPattern() {
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let converted = Float32Conversion.float(half: bits)
            if expected.isNaN {
                XCTAssertTrue(converted.isNaN && converted.sign == expected.sign, "0x\(String(bits, radix: 16))")
                XCTAssertEqual(converted.bitPattern & 0x7F_FFFF, expected.bitPattern & 0x7F_FFFF | 0x40_0000, "payload of 0x\(String(bits, radix: 16))")
            } else {
                XCTAssertEqual(converted.bitPattern, expected.bitPattern, "0x\(String(bits, radix: 16))")
            }
        }
    }
    #endif

    // MARK: The fuzz corpus

    func testFuzzCorpusFilesAreAcceptedOrRefusedAsNamed() throws {
        // Tests/Fuzz/safetensors/corpus: valid-* and bad-* seeds (seeds.py), and crash-*,
        // inputs on which the fuzzer once found a crash (each must now parse or be refused).
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fuzz/safetensors/corpus").standardizedFileURL
        let names = try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted()
        XCTAssertGreaterThan(names.filter { $0.hasPrefix("valid-") }.count, 5)
        XCTAssertGreaterThan(names.filter { $0.hasPrefix("bad-") }.count, 20)
        for name in names {
            let file = [UInt8](try Data(contentsOf: corpus.appendingPathComponent(name)))
            let result = Result { try file.withUnsafeBytes { try SafetensorsLayout.parse($0) } }
            if name.hasPrefix("valid-") {
                XCTAssertNoThrow(try result.get(), name)
            } else if name.hasPrefix("bad-") {
                XCTAssertThrowsError(try result.get(), name)
            } else {
                XCTAssertTrue(name.hasPrefix("crash-"), "unexpected corpus file \(name): name seeds valid-*, bad-* or crash-*")
            }
        }
    }

    // MARK: Helpers

    /// The bytes `Safetensors.write` produces for `tensors`.
    private func bytes(of tensors: [(String, Tensor)], metadata: [String: String] = [:]) throws -> [UInt8] {
        let url = directory.appendingPathComponent("\(UUID().uuidString).safetensors")
        try Safetensors.write(tensors.map { (name: $0.0, tensor: $0.1) }, metadata: metadata, to: url)
        return [UInt8](try Data(contentsOf: url))
    }

    /// A safetensors file: the 8-byte header length, `header` (padded with spaces to a multiple
    /// of 8 unless `pad` is false), then `data`.
    static func file(_ header: String, _ data: [UInt8] = [], pad: Bool = true) -> [UInt8] {
        file(Array(header.utf8), data, pad: pad)
    }

    /// `file(_:_:pad:)` for a header given as bytes (which may be invalid UTF-8).
    static func file(_ header: [UInt8], _ data: [UInt8] = [], pad: Bool = true) -> [UInt8] {
        var header = header
        while pad && header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        return le(UInt64(header.count)) + header + data
    }

    /// Little-endian bytes of `value`.
    static func le(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    /// Little-endian bytes of `value`.
    static func le16(_ value: UInt16) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8)]
    }

    /// Little-endian float32 bytes of `values`.
    private func floats(_ values: [Float]) -> [UInt8] {
        values.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * $0)) } }
    }
}
