import Linalg

/// L2-regularised least squares, as scikit-learn's `Ridge` with its default (Cholesky) solver.
///
/// ```
/// minimise ‖y − X·w − b‖² + α‖w‖²
/// ```
/// With at least as many rows as features it solves the normal equations `(XᵀX + αI)·w = Xᵀy`
/// by Cholesky; with more features than rows, the dual `(XXᵀ + αI)·a = y`, `w = Xᵀa`. The
/// intercept is fitted on centred data and not penalised.
public struct Ridge: Regressor, Equatable {
    public static let name = "ridge"
    public static let parameterSpecs = [
        ParameterSpec("alpha", .double(minimum: 0, exclusive: false), default: .double(1), "L2 penalty strength α"),
        ParameterSpec("fit_intercept", .bool, default: .bool(true), "fit an unpenalised intercept"),
    ]

    /// The penalty α ≥ 0.
    public var alpha: Double
    public var fitIntercept: Bool

    /// - Precondition: `alpha` is finite and ≥ 0 (use `init(parameters:)` for checked input).
    public init(alpha: Double = 1, fitIntercept: Bool = true) {
        precondition(alpha.isFinite && alpha >= 0, "alpha must be finite and >= 0")
        self.alpha = alpha
        self.fitIntercept = fitIntercept
    }

    public init(parameters: Parameters) throws(UsageError) {
        self.init(alpha: parameters.double("alpha"), fitIntercept: parameters.bool("fit_intercept"))
    }

    public var parameters: Parameters {
        var p = Self.defaultParameters
        try! p.set("alpha", .double(alpha), specs: Self.parameterSpecs)
        try! p.set("fit_intercept", .bool(fitIntercept), specs: Self.parameterSpecs)
        return p
    }

    /// Fits on `x` (`rows × features`, dense) and `y` (length `rows`).
    /// - Throws: `FitError` for mismatched lengths, no rows, non-finite values or sparse input.
    public func fit(_ x: FeatureMatrix, _ y: [Double]) throws -> FittedRidge {
        try validateFitInputs(x, y)
        let dense = try denseOnly(x, estimator: Self.name)
        do {
            let xMean = fitIntercept ? dense.columnMeans() : nil
            let yMean = fitIntercept ? y.reduce(0, +) / Double(y.count) : 0
            let w = try solve(dense, fitIntercept ? y.map { $0 - yMean } : y, columnOffsets: xMean)
            let intercept = xMean.map { interceptAfterCentring(xMean: $0, yMean: yMean, weights: w) } ?? 0
            return FittedRidge(estimator: self, coefficients: try LinearCoefficients(weights: w, intercept: intercept))
        } catch let error as LinalgError {
            throw FitError.linearAlgebra(error)
        }
    }

    /// Primal or dual Cholesky solve on `x` with its columns shifted by `columnOffsets`; when the
    /// system is singular (α = 0 on collinear data), the minimum-norm least-squares solution of
    /// the same system.
    private func solve(_ x: Matrix, _ y: [Double], columnOffsets: [Double]?) throws(LinalgError) -> [Double] {
        if x.columnCount > x.rowCount {
            // Dual: (XXᵀ + αI)·a = y, w = Xᵀa. Few rows, so a shifted copy is cheap.
            var shifted = x
            if let offsets = columnOffsets { shifted.subtractFromColumns(offsets) }
            let a = try regularizedSolve(shifted.gram(outer: true), y)
            return try shifted.gemv(a, transpose: true)
        }
        // Primal: (XcᵀXc + αI)·w = Xcᵀy, with Xcᵀy = Xᵀy − m·Σy (exact, no shifted copy).
        var rhs = try x.gemv(y, transpose: true)
        if let offsets = columnOffsets {
            let total = y.reduce(0, +)
            for j in rhs.indices { rhs[j] -= offsets[j] * total }
        }
        return try regularizedSolve(x.gram(columnOffsets: columnOffsets), rhs)
    }

    private func regularizedSolve(_ gram: Matrix, _ rhs: [Double]) throws(LinalgError) -> [Double] {
        var system = gram
        let n = system.rowCount
        system.withUnsafeMutableBufferPointer { a in
            for i in 0..<n { a[i * n + i] += alpha }
        }
        let b = try Matrix(rowCount: n, columnCount: 1, elements: rhs)
        do {
            return try system.choleskySolve(b).elements
        } catch .notPositiveDefinite {
            return try system.leastSquares(b).solution.elements
        }
    }
}

/// A fitted ridge model.
public struct FittedRidge: FittedRegressor, Equatable {
    public let estimator: Ridge
    public let coefficients: LinearCoefficients

    public var featureCount: Int { coefficients.weights.count }
    public func predict(_ x: FeatureMatrix) throws -> [Double] { try coefficients.predict(x) }
    public func tensors() -> [String: Tensor] { coefficients.tensors() }
}

extension FittedRidge {
    public init(tensors: [String: Tensor], parameters: Parameters, location: String) throws(InputError) {
        estimator = try Ridge(parameters: parameters, readFrom: location)
        coefficients = try LinearCoefficients(tensors: tensors, location: location)
    }
}
