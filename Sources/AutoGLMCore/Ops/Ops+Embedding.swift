import Foundation

extension Ops {
    /// Rows of `table` [V, C] picked by `ids` (row-major over `shape`): the result is
    /// shape + [C]. The backward scatter-adds into the table's gradient. Throws when the table is
    /// not 2-D, `ids.count` differs from the product of `shape`, or an id is outside 0..<V.
    public static func embedding(_ table: Tensor, ids: [Int32], shape: [Int]) throws -> Tensor {
        guard table.ndim == 2 else {
            throw TensorError("embedding: table must be 2-D [vocab, dim], got \(table.shape)")
        }
        let n = try validateShape(shape, op: "embedding")
        guard ids.count == n else {
            throw TensorError("embedding: \(ids.count) ids for shape \(shape) (\(n) positions)")
        }
        let v = table.shape[0], c = table.shape[1]
        try validateShape(shape + [c], op: "embedding")
        for (i, id) in ids.enumerated() where id < 0 || Int(id) >= v {
            throw TensorError("embedding: id \(id) at position \(i) out of range 0..<\(v)")
        }
        let out = Tensor(uninitialized: shape + [c])
        let pt = table.data, po = out.data
        ids.withUnsafeBufferPointer { idp in
            parallelRows(n, rowCost: c) { range in
                for i in range { (po + i * c).update(from: pt + Int(idp[i]) * c, count: c) }
            }
        }
        return out.recorded(from: [table]) { g in
            let dt = table.gradBuffer(), pg = g.data
            ids.withUnsafeBufferPointer { idp in
                for i in 0..<n { Kernels.addInPlace(dt + Int(idp[i]) * c, pg + i * c, c) }
            }
        }
    }
}
