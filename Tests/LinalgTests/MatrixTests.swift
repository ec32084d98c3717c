import Linalg
import TestSupport
import Testing

@Suite struct MatrixTests {
    let a = try! Matrix(rows: [[1, 2, 3], [4, 5, 6]])
    let b = try! Matrix(rows: [[7, 8], [9, 10], [11, 12]])

    @Test func gemmMatchesHandProduct() throws {
        let c = try Matrix.gemm(a, b)
        #expect(c == (try Matrix(rows: [[58, 64], [139, 154]])))
    }

    @Test func gemmTransposesEitherSide() throws {
        #expect(try Matrix.gemm(a, a, transposeB: true) == (try Matrix(rows: [[14, 32], [32, 77]])))
        #expect(try Matrix.gemm(b, b, transposeA: true) == (try Matrix(rows: [[251, 278], [278, 308]])))
        #expect(try Matrix.gemm(a.transposed(), b.transposed(), transposeA: true, transposeB: true) == (try Matrix.gemm(a, b)))
    }

    @Test func gemmRejectsMismatchedShapes() {
        #expect(throws: LinalgError.self) { try Matrix.gemm(a, a) }
    }

    @Test func gemvBothWays() throws {
        #expect(try a.gemv([1, 0, -1]) == [-2, -2])
        #expect(try a.gemv([1, 1], transpose: true) == [5, 7, 9])
        #expect(throws: LinalgError.self) { try a.gemv([1, 1]) }
    }

    @Test func leadingRowProductsAndCombinations() throws {
        var a = Matrix(rowCount: 3, columnCount: 4)
        a.setRow(0, [1, 2, 3, 4])
        a.setRow(1, [0, 1, 0, -1])
        a.setRow(2, [9, 9, 9, 9])  // beyond the two leading rows: never read
        let v = try Matrix(rows: [[1, 1, 1, 1], [2, 0, 0, 1]])
        let products = try a.leadingRows(2, timesTransposeOf: v)
        #expect(products == (try Matrix(rows: [[10, 6], [0, -1]])))
        var y = [1.0, 1, 1, 1]
        try a.addLeadingRows(2, weightedBy: [2, -1], alpha: 0.5, to: &y)
        #expect(y == [2, 2.5, 4, 5.5])
        #expect(throws: LinalgError.self) { try a.leadingRows(4, timesTransposeOf: v) }
        #expect(throws: LinalgError.self) { try a.addLeadingRows(2, weightedBy: [1], to: &y) }
        #expect(try a.leadingRows(0, timesTransposeOf: v).rowCount == 0)
    }

    /// Vector work on the calling thread only, then the previous setting back, nested or not.
    @Test func serialCallsRestoreTheThreadCount() {
        let before = BLAS.threadCount
        let kernels = BLAS.kernelThreadCount
        BLAS.withSerialCalls {
            #expect(BLAS.threadCount == 1)
            BLAS.withSerialCalls { #expect(BLAS.threadCount == 1) }
            #expect(BLAS.threadCount == 1)
            #expect(BLAS.kernelThreadCount == kernels)
        }
        #expect(BLAS.threadCount == before)
    }

    @Test func gramEqualsExplicitProducts() throws {
        var rng = SeededGenerator(seed: 7)
        let m = try Matrix(rowCount: 13, columnCount: 5, elements: (0..<65).map { _ in Double.random(in: -1...1, using: &rng) })
        let inner = try m.gram()
        let outer = try m.gram(outer: true)
        #expect(maxAbsoluteDifference(inner.elements, try Matrix.gemm(m, m, transposeA: true).elements) < 1e-13)
        #expect(maxAbsoluteDifference(outer.elements, try Matrix.gemm(m, m, transposeB: true).elements) < 1e-13)
        #expect(inner == inner.transposed())
    }

    @Test func dotAndAxpy() throws {
        #expect(try dot([1, 2, 3], [4, 5, 6]) == 32)
        var y = [1.0, 1, 1]
        try axpy(2, [1, 2, 3], &y)
        #expect(y == [3, 5, 7])
        #expect(throws: LinalgError.self) { try dot([1], [1, 2]) }
    }

    @Test func rowsAndColumns() throws {
        #expect(a.rows([1, 0, 1]) == (try Matrix(rows: [[4, 5, 6], [1, 2, 3], [4, 5, 6]])))
        #expect(a.column(2) == [3, 6])
        #expect(a.columnMeans() == [2.5, 3.5, 4.5])
        var c = a
        c.subtractFromColumns([1, 2, 3])
        #expect(c == (try Matrix(rows: [[0, 0, 0], [3, 3, 3]])))
    }

    @Test func raggedRowsAreAnError() {
        #expect(throws: LinalgError.self) { try Matrix(rows: [[1, 2], [3]]) }
        #expect(throws: LinalgError.self) { try Matrix(rowCount: 2, columnCount: 2, elements: [1, 2, 3]) }
    }
}
