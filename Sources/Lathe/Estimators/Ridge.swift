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
            if fitIntercept {
                let c = centred(dense, y)
                let w = try solve(c.x, c.y)
                return FittedRidge(estimator: self, coefficients: try LinearCoefficients(
                    weights: w, intercept: interceptAfterCentring(xMean: c.xMean, yMean: c.yMean, weights: w)))
            }
            return FittedRidge(estimator: self, coefficients: try LinearCoefficients(weights: try solve(dense, y), intercept: 0))
        } catch let error as LinalgError {
            throw FitError.linearAlgebra(error)
        }
    }

    /// Primal or dual Cholesky solve; when the system is singular (α = 0 on collinear data),
    /// the minimum-norm least-squares solution of the same system.
    private func solve(_ x: Matrix, _ y: [Double]) throws(LinalgError) -> [Double] {
        let dual = x.columnCount > x.rowCount
        var system = try x.gram(outer: dual)
        let n = system.rowCount
        system.withUnsafeMutableBufferPointer { a in
            for i in 0..<n { a[i * n + i] += alpha }
        }
        let rhs = try Matrix(rowCount: n, columnCount: 1, elements: dual ? y : try x.gemv(y, transpose: true))
        let solution: Matrix
        do {
            solution = try system.choleskySolve(rhs)
        } catch .notPositiveDefinite {
            solution = try system.leastSquares(rhs).solution
        }
        return dual ? try x.gemv(solution.elements, transpose: true) : solution.elements
    }
}

/// A fitted ridge model.
public struct FittedRidge: FittedRegressor, Equatable {
    public let estimator: Ridge
    public let coefficients: LinearCoefficients

    init(estimator: Ridge, coefficients: LinearCoefficients) {
        self.estimator = estimator
        self.coefficients = coefficients
    }

    public init(tensors: [String: Tensor], parameters: Parameters, location: String) throws(InputError) {
        estimator = try parametersFromFile(location) { () throws(UsageError) in try Ridge(parameters: parameters) }
        coefficients = try LinearCoefficients(tensors: tensors, location: location)
    }

    public var featureCount: Int { coefficients.weights.count }
    public func predict(_ x: FeatureMatrix) throws -> [Double] { try coefficients.predict(x) }
    public func tensors() -> [String: Tensor] { coefficients.tensors() }
}
