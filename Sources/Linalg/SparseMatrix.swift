import Dispatch
/// A sparse matrix of `Double` in compressed sparse row (CSR) form.
///
/// Row `i`'s stored entries are `columnIndices[rowOffsets[i] ..< rowOffsets[i + 1]]` with the
/// matching `values`; within a row the column indices are strictly increasing.
public struct SparseMatrix: Sendable, Equatable {
    /// Number of rows.
    public let rowCount: Int
    /// Number of columns.
    public let columnCount: Int
    /// `rowCount + 1` offsets into `columnIndices` and `values`, starting at 0.
    public private(set) var rowOffsets: [Int]
    /// Column of each stored entry.
    public private(set) var columnIndices: [Int32]
    /// Value of each stored entry.
    public private(set) var values: [Double]

    /// Number of stored entries.
    public var storedCount: Int { values.count }
    /// `[rowCount, columnCount]`.
    public var shape: [Int] { [rowCount, columnCount] }

    /// A CSR matrix over existing arrays, checked for consistency.
    /// - Throws: `LinalgError.invalidSparseStructure` when offsets are not monotone from 0 to the
    ///   entry count, an index is out of range, or a row's indices are not strictly increasing.
    public init(rowCount: Int, columnCount: Int, rowOffsets: [Int], columnIndices: [Int32], values: [Double]) throws(LinalgError) {
        guard rowCount >= 0, columnCount >= 0, columnCount <= Int(Int32.max) else {
            throw .invalidSparseStructure("bad shape [\(rowCount), \(columnCount)]")
        }
        guard rowOffsets.count == rowCount + 1, rowOffsets.first == 0, rowOffsets.last == values.count,
              columnIndices.count == values.count else {
            throw .invalidSparseStructure("offsets and lengths disagree")
        }
        for i in 0..<rowCount {
            let (start, end) = (rowOffsets[i], rowOffsets[i + 1])
            guard start <= end else { throw .invalidSparseStructure("row \(i) has decreasing offsets") }
            var previous: Int32 = -1
            for p in start..<end {
                let c = columnIndices[p]
                guard c > previous, Int(c) < columnCount else {
                    throw .invalidSparseStructure("row \(i) has an out-of-range or unsorted column index \(c)")
                }
                previous = c
            }
        }
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.rowOffsets = rowOffsets
        self.columnIndices = columnIndices
        self.values = values
    }

    /// Changes the stored values in place; the sparsity structure stays as it is.
    public mutating func withUnsafeMutableValues<R>(_ body: (UnsafeMutableBufferPointer<Double>) throws -> R) rethrows -> R {
        try values.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// Divides every stored element of column `j` by `divisors[j]`.
    public mutating func divideColumns(by divisors: [Double]) {
        precondition(divisors.count == columnCount, "one divisor per column")
        let columns = columnIndices
        values.withUnsafeMutableBufferPointer { v in
            for p in v.indices { v[p] /= divisors[Int(columns[p])] }
        }
    }

    /// A CSR matrix from rows of `(column, value)` pairs in any order; repeated columns in a
    /// row are summed, explicit zeros are kept.
    /// - Throws: `LinalgError.invalidSparseStructure` for a column outside `0..<columnCount`.
    public init(columnCount: Int, rows: [[(column: Int, value: Double)]]) throws(LinalgError) {
        var offsets = [0]
        offsets.reserveCapacity(rows.count + 1)
        var indices: [Int32] = []
        var values: [Double] = []
        for (i, row) in rows.enumerated() {
            let sorted = row.sorted { $0.column < $1.column }
            for entry in sorted {
                guard entry.column >= 0, entry.column < columnCount else {
                    throw .invalidSparseStructure("row \(i): column \(entry.column) outside 0..<\(columnCount)")
                }
                if indices.count > offsets[offsets.count - 1], Int(indices[indices.count - 1]) == entry.column {
                    values[values.count - 1] += entry.value
                } else {
                    indices.append(Int32(entry.column))
                    values.append(entry.value)
                }
            }
            offsets.append(indices.count)
        }
        try self.init(rowCount: rows.count, columnCount: columnCount, rowOffsets: offsets,
                      columnIndices: indices, values: values)
    }

    /// The sparse form of a dense matrix (zeros are not stored).
    public init(_ dense: Matrix) {
        var offsets = [0]
        var indices: [Int32] = []
        var values: [Double] = []
        dense.withUnsafeBufferPointer { src in
            for i in 0..<dense.rowCount {
                for j in 0..<dense.columnCount where src[i * dense.columnCount + j] != 0 {
                    indices.append(Int32(j))
                    values.append(src[i * dense.columnCount + j])
                }
                offsets.append(indices.count)
            }
        }
        self.rowCount = dense.rowCount
        self.columnCount = dense.columnCount
        self.rowOffsets = offsets
        self.columnIndices = indices
        self.values = values
    }

    /// The rows at `indices`, in that order (indices may repeat).
    public func rows(_ indices: [Int]) -> SparseMatrix {
        var offsets = [0]
        offsets.reserveCapacity(indices.count + 1)
        var total = 0
        for i in indices {
            precondition(i >= 0 && i < rowCount, "row index out of range")
            total += rowOffsets[i + 1] - rowOffsets[i]
            offsets.append(total)
        }
        var newIndices = [Int32](repeating: 0, count: total)
        var newValues = [Double](repeating: 0, count: total)
        columnIndices.withUnsafeBufferPointer { ci in
            values.withUnsafeBufferPointer { vs in
                newIndices.withUnsafeMutableBufferPointer { ni in
                    newValues.withUnsafeMutableBufferPointer { nv in
                        var out = 0
                        for i in indices {
                            for p in rowOffsets[i]..<rowOffsets[i + 1] {
                                ni[out] = ci[p]
                                nv[out] = vs[p]
                                out += 1
                            }
                        }
                    }
                }
            }
        }
        return SparseMatrix(unchecked: indices.count, columnCount, offsets, newIndices, newValues)
    }

    /// The same rows restricted to the columns that hold stored entries, renumbered
    /// `0..<columns.count` in increasing order; `columns[j]` is new column `j`'s old index.
    /// Products with the result touch only those columns' rows of a dense factor (a
    /// minibatch's gradient on a wide vocabulary).
    public func compactingColumns() -> (matrix: SparseMatrix, columns: [Int32]) {
        var newIndex = [Int32](repeating: -1, count: columnCount)
        var columns: [Int32] = []
        for c in columnIndices where newIndex[Int(c)] < 0 {
            newIndex[Int(c)] = 0
            columns.append(c)
        }
        columns.sort()
        for (j, c) in columns.enumerated() { newIndex[Int(c)] = Int32(j) }
        // A monotone renumbering keeps every row's indices strictly increasing.
        let renumbered = columnIndices.map { newIndex[Int($0)] }
        return (SparseMatrix(unchecked: rowCount, columns.count, rowOffsets, renumbered, values), columns)
    }

    private init(unchecked rowCount: Int, _ columnCount: Int, _ offsets: [Int], _ indices: [Int32], _ values: [Double]) {
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.rowOffsets = offsets
        self.columnIndices = indices
        self.values = values
    }

    /// `X·w`: one value per row.
    /// - Parameter w: length `columnCount`.
    /// - Throws: `LinalgError.shapeMismatch` on a length mismatch.
    public func multiply(_ w: [Double]) throws(LinalgError) -> [Double] {
        guard w.count == columnCount else {
            throw .shapeMismatch(operation: "SparseMatrix.multiply", left: shape, right: [w.count])
        }
        var out = [Double](repeating: 0, count: rowCount)
        rowOffsets.withUnsafeBufferPointer { ro in
            columnIndices.withUnsafeBufferPointer { ci in
                values.withUnsafeBufferPointer { vs in
                    w.withUnsafeBufferPointer { wp in
                        out.withUnsafeMutableBufferPointer { op in
                            for i in 0..<rowCount {
                                var s = 0.0
                                for p in ro[i]..<ro[i + 1] { s += vs[p] * wp[Int(ci[p])] }
                                op[i] = s
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// `Xᵀ·v`: one value per column.
    /// - Parameter v: length `rowCount`.
    /// - Throws: `LinalgError.shapeMismatch` on a length mismatch.
    public func transposeMultiply(_ v: [Double]) throws(LinalgError) -> [Double] {
        guard v.count == rowCount else {
            throw .shapeMismatch(operation: "SparseMatrix.transposeMultiply", left: shape, right: [v.count])
        }
        var out = [Double](repeating: 0, count: columnCount)
        rowOffsets.withUnsafeBufferPointer { ro in
            columnIndices.withUnsafeBufferPointer { ci in
                values.withUnsafeBufferPointer { vs in
                    v.withUnsafeBufferPointer { vp in
                        out.withUnsafeMutableBufferPointer { op in
                            for i in 0..<rowCount {
                                let scale = vp[i]
                                if scale == 0 { continue }
                                for p in ro[i]..<ro[i + 1] { op[Int(ci[p])] += scale * vs[p] }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// `X·B` for a dense `B` (`columnCount × k`): a dense `rowCount × k` result. Rows are
    /// split across up to `BLAS.kernelThreadCount` threads, as a BLAS kernel would.
    /// - Throws: `LinalgError.shapeMismatch` when `B` has the wrong number of rows.
    public func multiply(_ b: Matrix) throws(LinalgError) -> Matrix {
        var out = Matrix(rowCount: rowCount, columnCount: b.columnCount)
        try multiply(b, into: &out)
        return out
    }

    /// `out ← X·B` in place, for loops that reuse their buffers.
    /// - Throws: `LinalgError.shapeMismatch` when `B` has the wrong number of rows or `out` is
    ///   not `rowCount × B.columnCount`.
    public func multiply(_ b: Matrix, into out: inout Matrix) throws(LinalgError) {
        guard b.rowCount == columnCount else {
            throw .shapeMismatch(operation: "SparseMatrix.multiply", left: shape, right: b.shape)
        }
        let k = b.columnCount
        guard out.rowCount == rowCount, out.columnCount == k else {
            throw .shapeMismatch(operation: "SparseMatrix.multiply into", left: [rowCount, k], right: out.shape)
        }
        let blocks = kernelBlocks(work: storedCount * k)
        let rows = rowCount
        withKernelPointers(b, &out) { p in
            DispatchQueue.concurrentPerform(iterations: blocks) { t in
                // Each block owns its rows of the result.
                for i in (rows * t / blocks)..<(rows * (t + 1) / blocks) {
                    let o = p.out + i &* k
                    for c in 0..<k { o[c] = 0 }
                    for q in p.offsets[i]..<p.offsets[i &+ 1] {
                        let v = p.values[q]
                        let r = p.dense.baseAddress! + Int(p.columns[q]) &* k
                        for c in 0..<k { o[c] += v * r[c] }
                    }
                }
            }
        }
    }

    /// `X·Bᵀ` for a dense `B` (`k × columnCount`, as linear models store their weights): a dense
    /// `rowCount × k` result, equal to `multiply(b.transposed())` bit for bit (the same sums in
    /// the same order) without transposing `B`, for batches with fewer stored values than `B`
    /// has columns, where transposing would cost more than the product.
    /// - Throws: `LinalgError.shapeMismatch` when `B` has the wrong number of columns.
    public func multiply(transposed b: Matrix) throws(LinalgError) -> Matrix {
        guard b.columnCount == columnCount else {
            throw .shapeMismatch(operation: "SparseMatrix.multiply(transposed:)", left: shape, right: b.shape)
        }
        let k = b.rowCount
        var out = Matrix(rowCount: rowCount, columnCount: k)
        let width = columnCount
        withKernelPointers(b, &out) { p in
            for i in 0..<rowCount {
                let o = p.out + i &* k
                for q in p.offsets[i]..<p.offsets[i &+ 1] {
                    let v = p.values[q]
                    let column = Int(p.columns[q])
                    for c in 0..<k { o[c] += v * p.dense[c &* width &+ column] }
                }
            }
        }
        return out
    }

    /// Pins this matrix's arrays, `dense` and `out` for one kernel call.
    private func withKernelPointers(_ dense: Matrix, _ out: inout Matrix, _ body: (KernelPointers) -> Void) {
        rowOffsets.withUnsafeBufferPointer { ro in
            columnIndices.withUnsafeBufferPointer { ci in
                values.withUnsafeBufferPointer { vs in
                    dense.withUnsafeBufferPointer { bp in
                        out.withUnsafeMutableBufferPointer { op in
                            body(KernelPointers(offsets: ro, columns: ci, values: vs, dense: bp, out: op.baseAddress!))
                        }
                    }
                }
            }
        }
    }

    /// `Xᵀ·B` for a dense `B` (`rowCount × k`): a dense `columnCount × k` result.
    /// - Throws: `LinalgError.shapeMismatch` when `B` has the wrong number of rows.
    public func transposeMultiply(_ b: Matrix) throws(LinalgError) -> Matrix {
        var out = Matrix(rowCount: columnCount, columnCount: b.columnCount)
        try transposeMultiply(b, into: &out)
        return out
    }

    /// `out ← Xᵀ·B` in place, for loops that reuse their buffers. Large products split the rows
    /// into four blocks, each accumulating into a private copy, summed in block order at the
    /// end; up to `BLAS.kernelThreadCount` threads run the blocks.
    /// - Throws: `LinalgError.shapeMismatch` when `B` has the wrong number of rows or `out` is
    ///   not `columnCount × B.columnCount`.
    public func transposeMultiply(_ b: Matrix, into out: inout Matrix) throws(LinalgError) {
        guard b.rowCount == rowCount else {
            throw .shapeMismatch(operation: "SparseMatrix.transposeMultiply", left: shape, right: b.shape)
        }
        let k = b.columnCount
        guard out.rowCount == columnCount, out.columnCount == k else {
            throw .shapeMismatch(operation: "SparseMatrix.transposeMultiply into", left: [columnCount, k], right: out.shape)
        }
        // The blocks depend on the work only, not on the threads that run them, so the
        // partial sums (and so the result's last bits) are the same on any number of cores.
        let blocks = storedCount * k < 1_000_000 ? 1 : 4
        let workers = min(blocks, BLAS.kernelThreadCount)
        let size = columnCount * k
        var partial = [Double](repeating: 0, count: size * (blocks - 1))
        let rows = rowCount
        partial.withUnsafeMutableBufferPointer { pp in
            let spare = PrivateAccumulators(base: pp.baseAddress)
            withKernelPointers(b, &out) { p in
                for e in 0..<size { p.out[e] = 0 }
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    for t in stride(from: worker, to: blocks, by: workers) {
                        // Block 0 writes the result; the others their private accumulator.
                        let acc = t == 0 ? p.out : spare.base! + (t - 1) &* size
                        for i in (rows * t / blocks)..<(rows * (t + 1) / blocks) {
                            let r = p.dense.baseAddress! + i &* k
                            for q in p.offsets[i]..<p.offsets[i &+ 1] {
                                let v = p.values[q]
                                let o = acc + Int(p.columns[q]) &* k
                                for c in 0..<k { o[c] += v * r[c] }
                            }
                        }
                    }
                }
                for t in 1..<max(blocks, 1) {
                    let src = spare.base! + (t - 1) * size
                    for e in 0..<size { p.out[e] += src[e] }
                }
            }
        }
    }

    /// The transpose, in CSR form (so the CSC form of this matrix): `columnCount × rowCount`.
    /// Products with the transpose are then row gathers, much faster than scattering.
    public func transposed() -> SparseMatrix {
        var counts = [Int](repeating: 0, count: columnCount + 1)
        for c in columnIndices { counts[Int(c) + 1] += 1 }
        for j in 0..<columnCount { counts[j + 1] += counts[j] }
        let offsets = counts
        var next = counts
        var indices = [Int32](repeating: 0, count: storedCount)
        var newValues = [Double](repeating: 0, count: storedCount)
        for i in 0..<rowCount {
            for p in rowOffsets[i]..<rowOffsets[i + 1] {
                let j = Int(columnIndices[p])
                indices[next[j]] = Int32(i)
                newValues[next[j]] = values[p]
                next[j] += 1
            }
        }
        return SparseMatrix(unchecked: columnCount, rowCount, offsets, indices, newValues)
    }

    /// The dense form.
    public func dense() -> Matrix {
        var m = Matrix(rowCount: rowCount, columnCount: columnCount)
        let c = columnCount
        m.withUnsafeMutableBufferPointer { dst in
            for i in 0..<rowCount {
                for p in rowOffsets[i]..<rowOffsets[i + 1] { dst[i * c + Int(columnIndices[p])] = values[p] }
            }
        }
        return m
    }

    /// True when every stored value is finite.
    public var isFinite: Bool { values.allSatisfy { $0.isFinite } }
}

/// How many threads a sparse kernel uses for `work` multiply-adds: one below about a million
/// (thread start-up would cost more), else up to `BLAS.kernelThreadCount`, so a caller that
/// limits BLAS threads (parallel folds) limits these too.
func kernelBlocks(work: Int) -> Int {
    work < 1_000_000 ? 1 : max(1, min(BLAS.kernelThreadCount, 16))
}

/// The private accumulators of `transposeMultiply`'s extra threads (nil when there are none);
/// each thread writes only its own.
private struct PrivateAccumulators: @unchecked Sendable {
    let base: UnsafeMutablePointer<Double>?
}

/// The raw pointers of one kernel call, handed to its worker threads. Sound because every
/// thread only reads the inputs and writes a disjoint part of `out`, and the call returns only
/// after all threads finish, while the buffers are still pinned by `withUnsafe…`.
private struct KernelPointers: @unchecked Sendable {
    let offsets: UnsafeBufferPointer<Int>
    let columns: UnsafeBufferPointer<Int32>
    let values: UnsafeBufferPointer<Double>
    let dense: UnsafeBufferPointer<Double>
    let out: UnsafeMutablePointer<Double>
}
