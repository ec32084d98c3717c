import Linalg

/// A per-row norm: the `norm` of TF-IDF and hashing, and the `Normalizer` scaler.
public enum RowNorm: String, Sendable, CaseIterable {
    case l1, l2, max

    /// Divides each row by its norm; rows whose norm is zero stay as they are (scikit-learn's
    /// `normalize`).
    public func normalize(_ x: inout SparseMatrix) {
        let offsets = x.rowOffsets
        x.withUnsafeMutableValues { v in
            for i in 0..<(offsets.count - 1) {
                let (start, end) = (offsets[i], offsets[i + 1])
                var norm = 0.0
                switch self {
                case .l1: for p in start..<end { norm += Swift.abs(v[p]) }
                case .l2:
                    for p in start..<end { norm += v[p] * v[p] }
                    norm = norm.squareRoot()
                case .max: for p in start..<end { norm = Swift.max(norm, Swift.abs(v[p])) }
                }
                if norm == 0 { continue }
                for p in start..<end { v[p] /= norm }
            }
        }
    }

    /// The dense form; norms below 10·ε count as zero, as scikit-learn's `_handle_zeros_in_scale`.
    public func normalize(_ x: inout Matrix) {
        let c = x.columnCount
        let r = x.rowCount
        x.withUnsafeMutableBufferPointer { v in
            for i in 0..<r {
                let base = i * c
                var norm = 0.0
                switch self {
                case .l1: for j in 0..<c { norm += Swift.abs(v[base + j]) }
                case .l2:
                    for j in 0..<c { norm += v[base + j] * v[base + j] }
                    norm = norm.squareRoot()
                case .max: for j in 0..<c { norm = Swift.max(norm, Swift.abs(v[base + j])) }
                }
                if norm < 10 * Double.ulpOfOne { continue }
                for j in 0..<c { v[base + j] /= norm }
            }
        }
    }
}
