import CLapack

/// The result of a least-squares solve.
public struct LeastSquaresSolution: Sendable, Equatable {
    /// `columnCount × rightHandSides`: the minimum-norm minimiser of ‖A·X − B‖.
    public var solution: Matrix
    /// The effective rank of A (singular values above `rcond · σ_max`).
    public var rank: Int
    /// A's singular values, in decreasing order.
    public var singularValues: [Double]
}

/// A symmetric eigen-decomposition `A = V·diag(λ)·Vᵀ`.
public struct SymmetricEigenDecomposition: Sendable, Equatable {
    /// Eigenvalues in ascending order.
    public var eigenvalues: [Double]
    /// `n × n`; column `j` is the unit eigenvector of `eigenvalues[j]`.
    public var eigenvectors: Matrix
}

/// A thin singular value decomposition `A = U·diag(σ)·Vᵀ`.
public struct SingularValueDecomposition: Sendable, Equatable {
    /// `m × min(m, n)` left singular vectors.
    public var u: Matrix
    /// The `min(m, n)` singular values, decreasing.
    public var singularValues: [Double]
    /// `min(m, n) × n`: the right singular vectors as rows.
    public var vt: Matrix
}

/// Turns a LAPACK `info` code into a thrown error for routines whose positive codes mean
/// "did not converge".
@inline(__always)
private func checkConvergence(_ info: Int32, _ routine: String) throws(LinalgError) {
    if info < 0 { throw .illegalArgument(routine: routine, position: Int(-info)) }
    if info > 0 { throw .didNotConverge(routine: routine, info: Int(info)) }
}

private func requireFinite(_ m: Matrix, _ operation: String) throws(LinalgError) {
    guard m.isFinite else { throw .nonFiniteInput(operation: operation) }
}

extension Matrix {
    /// Minimum-norm least squares `min ‖A·X − B‖₂` by the divide-and-conquer SVD (`dgelsd`),
    /// so rank-deficient and under-determined systems have a well-defined answer.
    ///
    /// - Parameters:
    ///   - b: `rowCount × k` right-hand sides.
    ///   - rcond: singular values below `rcond · σ_max` count as zero; `nil` means machine epsilon
    ///     (SciPy's default).
    ///   - columnOffsets: when given (length `columnCount`), solves for `A − 1·offsetsᵀ` instead of
    ///     A, i.e. with every column shifted (centred data, without a second copy of A).
    /// - Returns: the `columnCount × k` solution, the effective rank and the singular values.
    /// - Throws: `LinalgError.shapeMismatch`, `.nonFiniteInput`, `.didNotConverge`.
    public func leastSquares(_ b: Matrix, rcond: Double? = nil, columnOffsets: [Double]? = nil) throws(LinalgError) -> LeastSquaresSolution {
        guard b.rowCount == rowCount, columnOffsets.map({ $0.count == columnCount }) ?? true else {
            throw .shapeMismatch(operation: "leastSquares", left: shape, right: b.shape)
        }
        try requireFinite(self, "leastSquares")
        try requireFinite(b, "leastSquares")
        let (m, n, k) = (rowCount, columnCount, b.columnCount)
        let ldb = Swift.max(m, n)
        guard m > 0, n > 0, k > 0 else {
            return LeastSquaresSolution(solution: Matrix(rowCount: n, columnCount: k), rank: 0, singularValues: [])
        }
        // dgelsd destroys A and wants it column-major: one copy here, transposed (and shifted) on
        // the way, instead of LAPACKE's row-major shim making a second one.
        var a = [Double](repeating: 0, count: m * n)
        withUnsafeBufferPointer { src in
            a.withUnsafeMutableBufferPointer { dst in
                let offsets = columnOffsets ?? [Double](repeating: 0, count: n)
                offsets.withUnsafeBufferPointer { o in
                    let block = 64
                    for i0 in stride(from: 0, to: m, by: block) {
                        let i1 = Swift.min(i0 + block, m)
                        for j in 0..<n {
                            let shift = o[j]
                            for i in i0..<i1 { dst[j * m + i] = src[i * n + j] - shift }
                        }
                    }
                }
            }
        }
        // B column-major, padded to max(m, n) rows: the solution comes back in its first n rows.
        var work = [Double](repeating: 0, count: ldb * k)
        b.withUnsafeBufferPointer { src in
            for i in 0..<m { for c in 0..<k { work[c * ldb + i] = src[i * k + c] } }
        }
        var s = [Double](repeating: 0, count: Swift.min(m, n))
        var rank: Int32 = 0
        let (m32, n32, k32, ldb32) = (try lapackInt(m, "dgelsd"), try lapackInt(n, "dgelsd"),
                                      try lapackInt(k, "dgelsd"), try lapackInt(ldb, "dgelsd"))
        let info = a.withUnsafeMutableBufferPointer { ap in
            work.withUnsafeMutableBufferPointer { bp in
                s.withUnsafeMutableBufferPointer { sp in
                    LAPACKE_dgelsd(LAPACK_COL_MAJOR, m32, n32, k32, ap.baseAddress, m32,
                                   bp.baseAddress, ldb32, sp.baseAddress, rcond ?? Double.ulpOfOne, &rank)
                }
            }
        }
        try checkConvergence(info, "dgelsd")
        var solution = Matrix(rowCount: n, columnCount: k)
        solution.withUnsafeMutableBufferPointer { dst in
            for i in 0..<n { for c in 0..<k { dst[i * k + c] = work[c * ldb + i] } }
        }
        return LeastSquaresSolution(solution: solution, rank: Int(rank), singularValues: s)
    }

    /// Solves `A·X = B` for symmetric positive-definite `A` by Cholesky (`dposv`).
    /// - Parameter b: `rowCount × k` right-hand sides.
    /// - Returns: the `rowCount × k` solution.
    /// - Throws: `LinalgError.notPositiveDefinite` when A is not SPD; `.shapeMismatch`, `.nonFiniteInput`.
    public func choleskySolve(_ b: Matrix) throws(LinalgError) -> Matrix {
        guard rowCount == columnCount, b.rowCount == rowCount else {
            throw .shapeMismatch(operation: "choleskySolve", left: shape, right: b.shape)
        }
        try requireFinite(self, "choleskySolve")
        try requireFinite(b, "choleskySolve")
        let n = rowCount
        guard n > 0, b.columnCount > 0 else { return b }
        var a = self
        var x = b
        let (n32, k32) = (try lapackInt(n, "dposv"), try lapackInt(b.columnCount, "dposv"))
        let info = a.withUnsafeMutableBufferPointer { ap in
            x.withUnsafeMutableBufferPointer { xp in
                LAPACKE_dposv(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), n32, k32, ap.baseAddress, n32, xp.baseAddress, k32)
            }
        }
        if info < 0 { throw .illegalArgument(routine: "dposv", position: Int(-info)) }
        if info > 0 { throw .notPositiveDefinite(order: Int(info)) }
        return x
    }

    /// The Cholesky factorisation of a symmetric positive-definite matrix (`dpotrf`), for
    /// solving several systems with one factorisation.
    /// - Throws: `LinalgError.notPositiveDefinite`, `.shapeMismatch`, `.nonFiniteInput`.
    public func cholesky() throws(LinalgError) -> CholeskyFactorization {
        guard rowCount == columnCount else {
            throw .shapeMismatch(operation: "cholesky", left: shape, right: shape)
        }
        try requireFinite(self, "cholesky")
        var a = self
        let n32 = try lapackInt(rowCount, "dpotrf")
        guard rowCount > 0 else { return CholeskyFactorization(factor: a) }
        let info = a.withUnsafeMutableBufferPointer { ap in
            LAPACKE_dpotrf(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), n32, ap.baseAddress, n32)
        }
        if info < 0 { throw .illegalArgument(routine: "dpotrf", position: Int(-info)) }
        if info > 0 { throw .notPositiveDefinite(order: Int(info)) }
        return CholeskyFactorization(factor: a)
    }

    /// Eigenvalues and eigenvectors of a symmetric matrix by divide and conquer (`dsyevd`).
    /// Only the upper triangle is read.
    /// - Throws: `LinalgError.didNotConverge`, `.shapeMismatch`, `.nonFiniteInput`.
    public func symmetricEigen() throws(LinalgError) -> SymmetricEigenDecomposition {
        guard rowCount == columnCount else {
            throw .shapeMismatch(operation: "symmetricEigen", left: shape, right: shape)
        }
        try requireFinite(self, "symmetricEigen")
        var a = self
        var w = [Double](repeating: 0, count: rowCount)
        guard rowCount > 0 else { return SymmetricEigenDecomposition(eigenvalues: [], eigenvectors: a) }
        let n32 = try lapackInt(rowCount, "dsyevd")
        let info = a.withUnsafeMutableBufferPointer { ap in
            w.withUnsafeMutableBufferPointer { wp in
                LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")),
                               n32, ap.baseAddress, n32, wp.baseAddress)
            }
        }
        try checkConvergence(info, "dsyevd")
        return SymmetricEigenDecomposition(eigenvalues: w, eigenvectors: a)
    }

    /// The thin singular value decomposition by divide and conquer (`dgesdd`).
    /// - Throws: `LinalgError.didNotConverge`, `.nonFiniteInput`.
    public func svd() throws(LinalgError) -> SingularValueDecomposition {
        try requireFinite(self, "svd")
        let (m, n) = (rowCount, columnCount)
        let r = Swift.min(m, n)
        var u = Matrix(rowCount: m, columnCount: r)
        var vt = Matrix(rowCount: r, columnCount: n)
        var s = [Double](repeating: 0, count: r)
        guard r > 0 else { return SingularValueDecomposition(u: u, singularValues: s, vt: vt) }
        var a = self
        let (m32, n32, r32) = (try lapackInt(m, "dgesdd"), try lapackInt(n, "dgesdd"), try lapackInt(r, "dgesdd"))
        let info = a.withUnsafeMutableBufferPointer { ap in
            s.withUnsafeMutableBufferPointer { sp in
                u.withUnsafeMutableBufferPointer { up in
                    vt.withUnsafeMutableBufferPointer { vp in
                        LAPACKE_dgesdd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "S")), m32, n32, ap.baseAddress, n32,
                                       sp.baseAddress, up.baseAddress, r32, vp.baseAddress, n32)
                    }
                }
            }
        }
        try checkConvergence(info, "dgesdd")
        return SingularValueDecomposition(u: u, singularValues: s, vt: vt)
    }
}

/// An upper Cholesky factor `U` with `A = UᵀU`, ready to solve systems (`dpotrs`).
public struct CholeskyFactorization: Sendable, Equatable {
    /// Row-major storage whose upper triangle holds `U` (the lower triangle is left as it was).
    public let factor: Matrix

    /// Solves `A·X = B` with the stored factor.
    /// - Parameter b: `n × k` right-hand sides.
    /// - Throws: `LinalgError.shapeMismatch`, `.nonFiniteInput`.
    public func solve(_ b: Matrix) throws(LinalgError) -> Matrix {
        guard b.rowCount == factor.rowCount else {
            throw .shapeMismatch(operation: "CholeskyFactorization.solve", left: factor.shape, right: b.shape)
        }
        try requireFinite(b, "CholeskyFactorization.solve")
        var x = b
        guard factor.rowCount > 0, b.columnCount > 0 else { return x }
        let (n32, k32) = (try lapackInt(factor.rowCount, "dpotrs"), try lapackInt(b.columnCount, "dpotrs"))
        let info = factor.withUnsafeBufferPointer { ap in
            x.withUnsafeMutableBufferPointer { xp in
                LAPACKE_dpotrs(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), n32, k32, ap.baseAddress, n32, xp.baseAddress, k32)
            }
        }
        if info < 0 { throw .illegalArgument(routine: "dpotrs", position: Int(-info)) }
        return x
    }
}
