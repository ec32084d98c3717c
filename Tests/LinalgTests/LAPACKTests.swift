import Linalg
import TestSupport
import Testing

@Suite struct LAPACKTests {
    @Test func leastSquaresLineThroughTwoPoints() throws {
        // y = 2 + 3x through (1, 5) and (4, 14): columns [1, x].
        let x = try Matrix(rows: [[1, 1], [1, 4]])
        let y = try Matrix(rows: [[5], [14]])
        let solution = try x.leastSquares(y)
        #expect(maxAbsoluteDifference(solution.solution.elements, [2, 3]) < 1e-12)
        #expect(solution.rank == 2)
    }

    @Test func leastSquaresRankDeficientGivesMinimumNorm() throws {
        // Two identical columns: every (a, b) with a + b = 2 fits; the minimum-norm one is (1, 1).
        let x = try Matrix(rows: [[1, 1], [2, 2], [3, 3]])
        let y = try Matrix(rows: [[2], [4], [6]])
        let solution = try x.leastSquares(y)
        #expect(solution.rank == 1)
        #expect(maxAbsoluteDifference(solution.solution.elements, [1, 1]) < 1e-12)
    }

    @Test func leastSquaresUnderdetermined() throws {
        // One equation x + y = 2: minimum norm (1, 1).
        let solution = try Matrix(rows: [[1, 1]]).leastSquares(try Matrix(rows: [[2]]))
        #expect(maxAbsoluteDifference(solution.solution.elements, [1, 1]) < 1e-12)
    }

    @Test func choleskySolvesSPDSystems() throws {
        let a = try Matrix(rows: [[4, 2], [2, 3]])
        let b = try Matrix(rows: [[2], [1]])
        let x = try a.choleskySolve(b)
        #expect(maxAbsoluteDifference(try Matrix.gemm(a, x).elements, b.elements) < 1e-14)
        let factor = try a.cholesky()
        #expect(maxAbsoluteDifference(try factor.solve(b).elements, x.elements) < 1e-14)
    }

    @Test func choleskyReportsIndefiniteMatrices() throws {
        let a = try Matrix(rows: [[1, 2], [2, 1]])
        #expect(throws: LinalgError.notPositiveDefinite(order: 2)) { try a.choleskySolve(try Matrix(rows: [[1], [1]])) }
        #expect(throws: LinalgError.notPositiveDefinite(order: 2)) { try a.cholesky() }
    }

    @Test func symmetricEigenReconstructs() throws {
        let a = try Matrix(rows: [[2, 1, 0], [1, 2, 0], [0, 0, 5]])
        let e = try a.symmetricEigen()
        #expect(maxAbsoluteDifference(e.eigenvalues, [1, 3, 5]) < 1e-13)
        var scaled = e.eigenvectors
        for i in 0..<3 { for j in 0..<3 { scaled[i, j] *= e.eigenvalues[j] } }
        let back = try Matrix.gemm(scaled, e.eigenvectors, transposeB: true)
        #expect(maxAbsoluteDifference(back.elements, a.elements) < 1e-13)
    }

    @Test func svdReconstructs() throws {
        let a = try Matrix(rows: [[3, 2, 2], [2, 3, -2]])
        let d = try a.svd()
        #expect(maxAbsoluteDifference(d.singularValues, [5, 3]) < 1e-13)
        var us = d.u
        for i in 0..<2 { for j in 0..<2 { us[i, j] *= d.singularValues[j] } }
        #expect(maxAbsoluteDifference(try Matrix.gemm(us, d.vt).elements, a.elements) < 1e-13)
    }

    @Test func nonFiniteInputIsAnErrorNotATrap() throws {
        let bad = try Matrix(rows: [[1, .nan], [0, 1]])
        let rhs = try Matrix(rows: [[1], [1]])
        #expect(throws: LinalgError.self) { try bad.leastSquares(rhs) }
        #expect(throws: LinalgError.self) { try bad.choleskySolve(rhs) }
        #expect(throws: LinalgError.self) { try bad.symmetricEigen() }
        #expect(throws: LinalgError.self) { try bad.svd() }
    }

    @Test func shapeMismatchIsAnError() throws {
        let a = try Matrix(rows: [[1, 0], [0, 1]])
        #expect(throws: LinalgError.self) { try a.leastSquares(try Matrix(rows: [[1], [1], [1]])) }
        #expect(throws: LinalgError.self) { try Matrix(rows: [[1, 2, 3]]).choleskySolve(try Matrix(rows: [[1]])) }
    }
}
