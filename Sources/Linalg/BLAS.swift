import CLapack
import Synchronization

/// Process-wide settings of the BLAS library (OpenBLAS) and of Linalg's own parallel kernels.
public enum BLAS {
    /// The thread budget of Linalg's own kernels (sparse products), kept apart from OpenBLAS's
    /// so that `withSerialCalls` can quiet OpenBLAS alone.
    /// Starts at OpenBLAS's own count, as set by `OPENBLAS_NUM_THREADS` or the core count, read
    /// outside any serial scope (this is initialized lazily, possibly inside one).
    private static let kernelThreads = Atomic<Int>(serialScopes.withLock { scopes in
        Int(scopes.depth > 0 ? scopes.saved : openblas_get_num_threads())
    })
    /// Depth of nested `withSerialCalls` scopes and the OpenBLAS thread count they replaced.
    private static let serialScopes = Mutex<(depth: Int, saved: Int32)>((0, 1))

    /// Runs `body` with OpenBLAS at `blas` threads per call and Linalg's (and Lathe's) own
    /// kernels at `kernels`, then restores the previous counts. Parallel folds run OpenBLAS on
    /// one thread (its idle threads spin, and its reductions group sums by thread count) while
    /// the own kernels, whose results do not depend on their thread count, may use the cores a
    /// lone last fold leaves idle.
    public static func withThreadCounts<R>(blas: Int, kernels: Int, _ body: () async throws -> R) async rethrows -> R {
        let (savedBLAS, savedKernels) = (threadCount, kernelThreadCount)
        openblas_set_num_threads(Int32(clamping: max(1, blas)))
        kernelThreads.store(max(1, kernels), ordering: .relaxed)
        defer {
            openblas_set_num_threads(Int32(clamping: savedBLAS))
            kernelThreads.store(savedKernels, ordering: .relaxed)
        }
        return try await body()
    }

    /// The number of threads OpenBLAS currently uses.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// The number of threads Linalg's own kernels may use.
    public static var kernelThreadCount: Int { kernelThreads.load(ordering: .relaxed) }

    /// Runs `body` with OpenBLAS on the calling thread only, while Linalg's sparse kernels keep
    /// their budget. For long runs of memory-bound vector operations between parallel sparse
    /// products (an L-BFGS fit): each threaded OpenBLAS call leaves its workers spinning for a
    /// while, taking the cores the sparse kernels then need, and gains nothing on vectors
    /// that memory bandwidth limits anyway.
    public static func withSerialCalls<R>(_ body: () throws -> R) rethrows -> R {
        serialScopes.withLock { scopes in
            if scopes.depth == 0 {
                scopes.saved = openblas_get_num_threads()
                openblas_set_num_threads(1)
            }
            scopes.depth += 1
        }
        defer {
            serialScopes.withLock { scopes in
                scopes.depth -= 1
                if scopes.depth == 0 { openblas_set_num_threads(scopes.saved) }
            }
        }
        return try body()
    }
}

/// Dot product `xᵀy` (`cblas_ddot`).
/// - Throws: `LinalgError.shapeMismatch` when the lengths differ.
public func dot(_ x: [Double], _ y: [Double]) throws(LinalgError) -> Double {
    guard x.count == y.count else { throw .shapeMismatch(operation: "dot", left: [x.count], right: [y.count]) }
    let n = try lapackInt(x.count, "dot")
    return x.withUnsafeBufferPointer { xp in
        y.withUnsafeBufferPointer { yp in cblas_ddot(n, xp.baseAddress, 1, yp.baseAddress, 1) }
    }
}

/// `y ← αx + y` (`cblas_daxpy`).
/// - Throws: `LinalgError.shapeMismatch` when the lengths differ.
public func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) throws(LinalgError) {
    guard x.count == y.count else { throw .shapeMismatch(operation: "axpy", left: [x.count], right: [y.count]) }
    let n = try lapackInt(x.count, "axpy")
    x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in cblas_daxpy(n, alpha, xp.baseAddress, 1, yp.baseAddress, 1) }
    }
}

/// `x ← αx` (`cblas_dscal`).
public func scale(_ x: inout [Double], by alpha: Double) {
    let n = Int32(clamping: x.count)
    x.withUnsafeMutableBufferPointer { xp in cblas_dscal(n, alpha, xp.baseAddress, 1) }
}

extension Matrix {
    /// General matrix product `α·op(A)·op(B)` (`cblas_dgemm`), where `op` transposes when asked.
    ///
    /// - Parameters:
    ///   - a: `m × k` (or `k × m` with `transposeA`).
    ///   - b: `k × n` (or `n × k` with `transposeB`).
    ///   - alpha: scale of the product.
    /// - Returns: the `m × n` product.
    /// - Throws: `LinalgError.shapeMismatch` when the inner dimensions differ.
    public static func gemm(_ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false,
                            alpha: Double = 1) throws(LinalgError) -> Matrix {
        var c = Matrix(rowCount: transposeA ? a.columnCount : a.rowCount, columnCount: transposeB ? b.rowCount : b.columnCount)
        try gemm(a, b, transposeA: transposeA, transposeB: transposeB, alpha: alpha, into: &c)
        return c
    }

    /// `C ← α·op(A)·op(B)` in place (`cblas_dgemm`), for loops that reuse their buffers.
    ///
    /// - Parameters:
    ///   - a: `m × k` (or `k × m` with `transposeA`).
    ///   - b: `k × n` (or `n × k` with `transposeB`).
    ///   - c: `m × n`.
    /// - Throws: `LinalgError.shapeMismatch` when the inner dimensions or `c`'s shape differ.
    public static func gemm(_ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false,
                            alpha: Double = 1, into c: inout Matrix) throws(LinalgError) {
        let m = transposeA ? a.columnCount : a.rowCount
        let k = transposeA ? a.rowCount : a.columnCount
        let kb = transposeB ? b.columnCount : b.rowCount
        let n = transposeB ? b.rowCount : b.columnCount
        guard k == kb else { throw .shapeMismatch(operation: "gemm", left: [m, k], right: [kb, n]) }
        guard c.rowCount == m, c.columnCount == n else { throw .shapeMismatch(operation: "gemm into", left: [m, n], right: c.shape) }
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            c.withUnsafeMutableBufferPointer { cp in
                for e in cp.indices { cp[e] = 0 }
            }
            return
        }
        let (m32, n32, k32) = (try lapackInt(m, "gemm"), try lapackInt(n, "gemm"), try lapackInt(k, "gemm"))
        let lda = try lapackInt(max(1, a.columnCount), "gemm")
        let ldb = try lapackInt(max(1, b.columnCount), "gemm")
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
                                transposeB ? CblasTrans : CblasNoTrans,
                                m32, n32, k32, alpha, ap.baseAddress, lda, bp.baseAddress, ldb,
                                0, cp.baseAddress, n32)
                }
            }
        }
    }

    /// Matrix–vector product `A·x`, or `Aᵀ·x` with `transpose` (`cblas_dgemv`).
    /// - Parameter vector: length `columnCount` (or `rowCount` when transposed).
    /// - Returns: length `rowCount` (or `columnCount` when transposed).
    /// - Throws: `LinalgError.shapeMismatch` on a length mismatch.
    public func gemv(_ vector: [Double], transpose: Bool = false, alpha: Double = 1) throws(LinalgError) -> [Double] {
        let inner = transpose ? rowCount : columnCount
        let outer = transpose ? columnCount : rowCount
        guard vector.count == inner else {
            throw .shapeMismatch(operation: transpose ? "gemv (transposed)" : "gemv", left: shape, right: [vector.count])
        }
        var y = [Double](repeating: 0, count: outer)
        guard rowCount > 0, columnCount > 0 else { return y }
        let (m, n) = (try lapackInt(rowCount, "gemv"), try lapackInt(columnCount, "gemv"))
        withUnsafeBufferPointer { ap in
            vector.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    cblas_dgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, m, n, alpha,
                                ap.baseAddress, n, xp.baseAddress, 1, 0, yp.baseAddress, 1)
                }
            }
        }
        return y
    }

    /// `A[0..<rows]·Vᵀ`: the inner products of this matrix's first `rows` rows with every row of
    /// `v`, as a `rows × v.rowCount` matrix, one `cblas_dgemv` per row of `v`: meant for a block
    /// of long stored vectors meeting a few new ones, where a `gemm` would spend its time packing.
    /// - Throws: `LinalgError.shapeMismatch` when `rows` exceeds `rowCount` or the widths differ.
    public func leadingRows(_ rows: Int, timesTransposeOf v: Matrix) throws(LinalgError) -> Matrix {
        guard (0...rowCount).contains(rows), v.columnCount == columnCount else {
            throw .shapeMismatch(operation: "leadingRows(_:timesTransposeOf:)", left: [rows, columnCount], right: v.shape)
        }
        var c = Matrix(rowCount: rows, columnCount: v.rowCount)
        guard rows > 0, v.rowCount > 0, columnCount > 0 else { return c }
        let (m, n, probes) = (try lapackInt(rows, "gemv"), try lapackInt(columnCount, "gemv"), try lapackInt(v.rowCount, "gemv"))
        withUnsafeBufferPointer { ap in
            v.withUnsafeBufferPointer { vp in
                c.withUnsafeMutableBufferPointer { cp in
                    for probe in 0..<v.rowCount {
                        // Column `probe` of the row-major result: stride `probes`.
                        cblas_dgemv(CblasRowMajor, CblasNoTrans, m, n, 1, ap.baseAddress, n,
                                    vp.baseAddress! + probe * columnCount, 1, 0, cp.baseAddress! + probe, probes)
                    }
                }
            }
        }
        return c
    }

    /// `y ← y + α·A[0..<rows]ᵀ·c`: adds the combination of the first `rows` rows with weights `c`
    /// (`cblas_dgemv`).
    /// - Throws: `LinalgError.shapeMismatch` when `c` does not have `rows` entries, `rows` exceeds
    ///   `rowCount`, or `y` is not `columnCount` long.
    public func addLeadingRows(_ rows: Int, weightedBy c: [Double], alpha: Double = 1, to y: inout [Double]) throws(LinalgError) {
        guard (0...rowCount).contains(rows), c.count == rows, y.count == columnCount else {
            throw .shapeMismatch(operation: "addLeadingRows(_:weightedBy:to:)", left: [rows, columnCount], right: [c.count, y.count])
        }
        guard rows > 0, columnCount > 0 else { return }
        let (m, n) = (try lapackInt(rows, "gemv"), try lapackInt(columnCount, "gemv"))
        withUnsafeBufferPointer { ap in
            c.withUnsafeBufferPointer { cp in
                y.withUnsafeMutableBufferPointer { yp in
                    cblas_dgemv(CblasRowMajor, CblasTrans, m, n, alpha, ap.baseAddress, n, cp.baseAddress, 1, 1, yp.baseAddress, 1)
                }
            }
        }
    }

    /// The Gram matrix `AᵀA` (`columnCount × columnCount`), or `AAᵀ` with `outer`, by `cblas_dsyrk`
    /// (half the work of a general product); both triangles are filled.
    ///
    /// - Parameter columnOffsets: when given (length `columnCount`, not with `outer`), the Gram
    ///   matrix of `A − 1·offsetsᵀ` (centred data), computed block by block so A is never copied
    ///   whole and no precision is lost to forming `AᵀA − n·m·mᵀ`.
    /// - Throws: `LinalgError.dimensionTooLarge` past the 32-bit interface; `.shapeMismatch` for
    ///   offsets of the wrong length.
    public func gram(outer: Bool = false, columnOffsets: [Double]? = nil) throws(LinalgError) -> Matrix {
        let n = outer ? rowCount : columnCount
        let k = outer ? columnCount : rowCount
        var c = Matrix(rowCount: n, columnCount: n)
        guard n > 0, k > 0 else { return c }
        let n32 = try lapackInt(n, "syrk")
        _ = try lapackInt(k, "syrk")
        let lda = try lapackInt(max(1, columnCount), "syrk")
        if let offsets = columnOffsets {
            guard !outer, offsets.count == columnCount else {
                throw .shapeMismatch(operation: "gram", left: shape, right: [offsets.count])
            }
            // About 2 MB per block: it stays in cache between the shift and dsyrk's read of it.
            let blockRows = Swift.max(1, Swift.min(rowCount, (1 << 18) / Swift.max(1, columnCount)))
            var block = [Double](repeating: 0, count: blockRows * columnCount)
            withUnsafeBufferPointer { ap in
                offsets.withUnsafeBufferPointer { o in
                    block.withUnsafeMutableBufferPointer { bp in
                        c.withUnsafeMutableBufferPointer { cp in
                            var beta = 0.0
                            for start in stride(from: 0, to: rowCount, by: blockRows) {
                                let rows = Swift.min(blockRows, rowCount - start)
                                for i in 0..<rows {
                                    let src = (start + i) * columnCount, dst = i * columnCount
                                    for j in 0..<columnCount { bp[dst + j] = ap[src + j] - o[j] }
                                }
                                cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, n32, Int32(rows), 1,
                                            bp.baseAddress, lda, beta, cp.baseAddress, n32)
                                beta = 1
                            }
                        }
                    }
                }
            }
        } else {
            let k32 = Int32(k)
            withUnsafeBufferPointer { ap in
                c.withUnsafeMutableBufferPointer { cp in
                    // Row-major AᵀA is "transpose" in CBLAS terms: C = op(A)·op(A)ᵀ with op(A) = Aᵀ.
                    cblas_dsyrk(CblasRowMajor, CblasUpper, outer ? CblasNoTrans : CblasTrans,
                                n32, k32, 1, ap.baseAddress, lda, 0, cp.baseAddress, n32)
                }
            }
        }
        c.withUnsafeMutableBufferPointer { cp in
            for i in 0..<n {
                for j in 0..<i { cp[i * n + j] = cp[j * n + i] }
            }
        }
        return c
    }
}
