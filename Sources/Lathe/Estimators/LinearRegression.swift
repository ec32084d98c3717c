import Linalg

/// Ordinary least squares, as scikit-learn's `LinearRegression`.
///
/// ```
/// minimise ‖y − X·w − b‖²
/// ```
/// Solved on centred data by LAPACK's SVD-based least squares (`dgelsd`) with singular values
/// below `tol·σ_max` treated as zero, so rank-deficient data gives the minimum-norm solution,
/// as scikit-learn's does (its `tol`, default 1e-6, is the same cut-off).
public struct LinearRegression: Regressor, Equatable {
    public static let name = "linreg"
    public static let parameterSpecs = [
        ParameterSpec("fit_intercept", .bool, default: .bool(true), "fit an unpenalised intercept"),
        ParameterSpec("tol", .double(minimum: 0, exclusive: false), default: .double(1e-6),
                      "relative cut-off below which singular values count as zero"),
    ]

    /// Fit an intercept (on centred data); without one the model passes through the origin.
    public var fitIntercept: Bool
    /// Singular values below `tol·σ_max` count as zero (the rank cut-off).
    public var tol: Double

    /// - Precondition: `tol` is finite and ≥ 0 (use `init(parameters:)` for checked input).
    public init(fitIntercept: Bool = true, tol: Double = 1e-6) {
        precondition(tol.isFinite && tol >= 0, "tol must be finite and >= 0")
        self.fitIntercept = fitIntercept
        self.tol = tol
    }

    public init(parameters: Parameters) throws(UsageError) {
        self.init(fitIntercept: parameters.bool("fit_intercept"), tol: parameters.double("tol"))
    }

    public var parameters: Parameters {
        var p = Self.defaultParameters
        try! p.set("fit_intercept", .bool(fitIntercept), specs: Self.parameterSpecs)
        try! p.set("tol", .double(tol), specs: Self.parameterSpecs)
        return p
    }

    /// Fits on `x` (`rows × features`, dense) and `y` (length `rows`).
    /// - Throws: `FitError` for mismatched lengths, no rows, non-finite values or sparse input.
    public func fit(_ x: FeatureMatrix, _ y: [Double]) throws -> FittedLinearRegression {
        try validateFitInputs(x, y)
        let dense = try denseOnly(x, estimator: Self.name)
        do {
            let xMean = fitIntercept ? dense.columnMeans() : nil
            let yMean = fitIntercept ? y.reduce(0, +) / Double(y.count) : 0
            let rhs = try Matrix(rowCount: y.count, columnCount: 1, elements: fitIntercept ? y.map { $0 - yMean } : y)
            let solution = try dense.leastSquares(rhs, rcond: tol, columnOffsets: xMean)
            let w = solution.solution.elements
            let intercept = xMean.map { interceptAfterCentring(xMean: $0, yMean: yMean, weights: w) } ?? 0
            return FittedLinearRegression(estimator: self, coefficients: try LinearCoefficients(weights: w, intercept: intercept),
                                          rank: solution.rank)
        } catch let error as LinalgError {
            throw FitError.linearAlgebra(error)
        }
    }
}

/// A fitted ordinary-least-squares model.
public struct FittedLinearRegression: FittedRegressor, Equatable {
    /// The settings it was fitted with.
    public let estimator: LinearRegression
    /// Weights and intercept.
    public let coefficients: LinearCoefficients
    /// The effective rank of the (centred) design matrix; below `featureCount` when features are collinear.
    public let rank: Int?

    public var featureCount: Int { coefficients.weights.count }
    public func predict(_ x: FeatureMatrix) throws -> [Double] { try coefficients.predict(x) }
    public func tensors() -> [String: Tensor] { coefficients.tensors() }
}

extension FittedLinearRegression {
    public init(tensors: [String: Tensor], parameters: Parameters, location: String) throws(InputError) {
        estimator = try LinearRegression(parameters: parameters, readFrom: location)
        coefficients = try LinearCoefficients(tensors: tensors, location: location)
        rank = nil
    }
}
