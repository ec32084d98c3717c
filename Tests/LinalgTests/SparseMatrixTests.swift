import Linalg
import TestSupport
import Testing

@Suite struct SparseMatrixTests {
    let rows: [[(column: Int, value: Double)]] = [[(2, 1), (0, 3)], [], [(1, 2), (1, 0.5), (3, -1)]]

    @Test func buildsSortedCSRAndSumsRepeats() throws {
        let s = try SparseMatrix(columnCount: 4, rows: rows)
        #expect(s.rowOffsets == [0, 2, 2, 4])
        #expect(s.columnIndices == [0, 2, 1, 3])
        #expect(s.values == [3, 1, 2.5, -1])
        #expect(s.dense() == (try Matrix(rows: [[3, 0, 1, 0], [0, 0, 0, 0], [0, 2.5, 0, -1]])))
    }

    @Test func productsMatchDense() throws {
        var rng = SeededGenerator(seed: 3)
        let dense = try Matrix(rowCount: 20, columnCount: 9, elements: (0..<180).map { _ in
            Double.random(in: 0...1, using: &rng) < 0.3 ? Double.random(in: -2...2, using: &rng) : 0
        })
        let sparse = SparseMatrix(dense)
        let w = (0..<9).map { Double($0) - 4 }
        let v = (0..<20).map { Double($0 % 5) }
        #expect(maxAbsoluteDifference(try sparse.multiply(w), try dense.gemv(w)) < 1e-12)
        #expect(maxAbsoluteDifference(try sparse.transposeMultiply(v), try dense.gemv(v, transpose: true)) < 1e-12)
        #expect(sparse.rows([3, 1, 3]).dense() == dense.rows([3, 1, 3]))
    }

    /// Dropping the empty columns keeps every row's entries, renumbered in column order.
    @Test func compactingColumnsKeepsTheStoredOnes() throws {
        let s = try SparseMatrix(columnCount: 6, rows: [[(4, 1), (1, 2)], [], [(4, 3), (5, -1)]])
        let (compact, columns) = s.compactingColumns()
        #expect(columns == [1, 4, 5])
        #expect(compact.dense() == (try Matrix(rows: [[2, 1, 0], [0, 0, 0], [0, 3, -1]])))
        let empty = try SparseMatrix(columnCount: 3, rows: [[], []]).compactingColumns()
        #expect(empty.columns.isEmpty && empty.matrix.shape == [2, 0])
    }

    @Test func rejectsInconsistentStructure() {
        #expect(throws: LinalgError.self) {
            try SparseMatrix(rowCount: 1, columnCount: 2, rowOffsets: [0, 2], columnIndices: [1, 0], values: [1, 1])
        }
        #expect(throws: LinalgError.self) {
            try SparseMatrix(rowCount: 1, columnCount: 2, rowOffsets: [0, 1], columnIndices: [5], values: [1])
        }
        #expect(throws: LinalgError.self) {
            try SparseMatrix(rowCount: 2, columnCount: 2, rowOffsets: [0, 1], columnIndices: [0], values: [1])
        }
        #expect(throws: LinalgError.self) { try SparseMatrix(columnCount: 2, rows: [[(2, 1.0)]]) }
    }

    @Test func productLengthsAreChecked() throws {
        let s = try SparseMatrix(columnCount: 4, rows: rows)
        #expect(throws: LinalgError.self) { try s.multiply([1, 2]) }
        #expect(throws: LinalgError.self) { try s.transposeMultiply([1]) }
    }

    /// Sparse × dense products (large enough to run on several threads) and the transpose
    /// against BLAS on the dense form.
    @Test func matrixProductsAndTransposeMatchDense() throws {
        var rng = SeededGenerator(seed: 5)
        let (n, f, k) = (3000, 400, 7)
        let sparseRows = (0..<n).map { _ in
            (0..<f).compactMap { j -> (column: Int, value: Double)? in
                Double.random(in: 0..<1, using: &rng) < 0.1 ? (j, Double.random(in: -1...1, using: &rng)) : nil
            }
        }
        let x = try SparseMatrix(columnCount: f, rows: sparseRows)
        let dense = x.dense()
        let b = try Matrix(rowCount: f, columnCount: k, elements: (0..<(f * k)).map { _ in Double.random(in: -1...1, using: &rng) })
        let r = try Matrix(rowCount: n, columnCount: k, elements: (0..<(n * k)).map { _ in Double.random(in: -1...1, using: &rng) })
        #expect(maxAbsoluteDifference(try x.multiply(b).elements, try Matrix.gemm(dense, b).elements) < 1e-12)
        #expect(maxAbsoluteDifference(try x.transposeMultiply(r).elements, try Matrix.gemm(dense, r, transposeA: true).elements) < 1e-12)
        let t = x.transposed()
        #expect(t.dense() == dense.transposed())
        #expect(t.transposed() == x)
        #expect(maxAbsoluteDifference(try t.multiply(r).elements, try x.transposeMultiply(r).elements) < 1e-12)
        // X·Bᵀ without transposing B: the same sums in the same order, so equal bit for bit.
        let weights = b.transposed()
        #expect(try x.multiply(transposed: weights) == (try x.multiply(b)))
        #expect(throws: LinalgError.self) { try x.multiply(transposed: b) }
        // A vector's transpose shares its elements.
        let row = try Matrix(rowCount: 1, columnCount: 3, elements: [1, 2, 3])
        #expect(row.transposed().shape == [3, 1] && row.transposed().elements == [1, 2, 3])
    }
}
