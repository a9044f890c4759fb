import AutoGLMCore
import Foundation

/// Reads and writes the safetensors format (8-byte little-endian header length, JSON header of
/// name → {dtype, shape, data_offsets} plus optional `__metadata__`, then the raw data) for
/// float32 tensors. Reading checks every offset and size and refuses a damaged file whole.
public enum Safetensors {
    /// Writes `tensors` (unique names) and string `metadata` to `url` atomically.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, t) in tensors {
            let bytes = t.count * 4
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // pad with spaces so the data is aligned
        var out = Data(capacity: 8 + json.count + offset)
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        for (_, t) in tensors { out.append(UnsafeBufferPointer(start: t.data, count: t.count)) }
        try out.write(to: url, options: .atomic)
    }

    /// The tensors and metadata of the file at `url`.
    public static func read(from url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let data = try Data(contentsOf: url, options: .mappedIfSafe)
        func fail(_ why: String) -> Error { CheckpointError(message: "\(url.path): not a valid safetensors file: \(why)") }
        guard data.count >= 8 else { throw fail("shorter than its 8-byte header length") }
        let length = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= UInt64(data.count - 8), length <= 100_000_000 else { throw fail("header length \(length) exceeds the file") }
        let start = 8 + Int(length)
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<start)) as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else { throw fail("__metadata__ is not a string map") }
                metadata = m; continue
            }
            guard let entry = value as? [String: Any], entry["dtype"] as? String == "F32",
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail("entry '\(name)' is not an F32 tensor with shape and data_offsets")
            }
            let count = shape.reduce(1, *)
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[1] - offsets[0] == count * 4,
                  start + offsets[1] <= data.count else {
                throw fail("entry '\(name)': data_offsets \(offsets) do not match shape \(shape) or run past the end")
            }
            let t = Tensor(zeros: shape)
            _ = data.withUnsafeBytes { raw in
                memcpy(t.data, raw.baseAddress! + start + offsets[0], count * 4)
            }
            tensors[name] = t
        }
        return (tensors, metadata)
    }
}

/// A checkpoint or run directory that cannot be used.
public struct CheckpointError: Error, CustomStringConvertible {
    /// What is wrong.
    public let message: String
    public var description: String { message }
}
