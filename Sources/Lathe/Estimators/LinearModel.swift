import Linalg

/// The fitted form shared by linear regressors: `ŷ = x·w + b`.
public struct LinearCoefficients: Sendable, Equatable {
    /// One weight per feature.
    public let weights: [Double]
    /// The intercept `b` (0 without `fit_intercept`).
    public let intercept: Double

    /// `x·w + b` for every row.
    func predict(_ x: FeatureMatrix) throws -> [Double] {
        try validatePredictInputs(x, featureCount: weights.count)
        var out: [Double]
        switch x {
        case let .dense(m): out = try m.gemv(weights)
        case let .sparse(s): out = try s.multiply(weights)
        }
        if intercept != 0 { for i in out.indices { out[i] += intercept } }
        return out
    }

    /// `coef` `[1, features]` and `intercept` `[1]`, the layout DESIGN.md gives.
    func tensors() -> [String: Tensor] {
        ["coef": Tensor(weights, shape: [1, weights.count]), "intercept": Tensor([intercept], shape: [1])]
    }

    /// Reads and checks `coef` and `intercept`.
    init(tensors: [String: Tensor], location: String) throws(InputError) {
        guard let coef = tensors["coef"], let w = coef.doubles, coef.shape.count == 2, coef.shape[0] == 1 else {
            throw InputError("tensor coef is missing or is not F64 of shape [1, features]", at: location)
        }
        guard let b = tensors["intercept"], let bv = b.doubles, b.shape == [1] else {
            throw InputError("tensor intercept is missing or is not F64 of shape [1]", at: location)
        }
        guard w.allSatisfy(\.isFinite), bv[0].isFinite else {
            throw InputError("coef or intercept holds NaN or infinity", at: location)
        }
        self.weights = w
        self.intercept = bv[0]
    }

    init(weights: [Double], intercept: Double) throws(FitError) {
        guard weights.allSatisfy(\.isFinite), intercept.isFinite else { throw .nonFiniteModel }
        self.weights = weights
        self.intercept = intercept
    }
}

/// The intercept that goes with weights fitted on centred data: `ȳ − x̄·w`.
func interceptAfterCentring(xMean: [Double], yMean: Double, weights: [Double]) -> Double {
    var s = yMean
    for j in weights.indices { s -= xMean[j] * weights[j] }
    return s
}

func denseOnly(_ x: FeatureMatrix, estimator: String) throws(FitError) -> Matrix {
    guard case let .dense(m) = x else { throw .sparseInputUnsupported(estimator: estimator) }
    return m
}
