import Foundation
import Linalg

/// Logistic regression (scikit-learn's `LogisticRegression` with the `lbfgs` solver): binary
/// (sigmoid) for two classes, multinomial (softmax) for more, minimizing
/// `C · Σᵢ sᵢ·lossᵢ + ½‖W‖²` with an unpenalized intercept, where `sᵢ` are class weights.
public struct LogisticRegression: Classifier, Equatable {
    public static let name = "logreg"
    public static let parameterSpecs = [
        ParameterSpec("C", .double(minimum: 0, exclusive: true), default: .double(1), "inverse regularization strength"),
        ParameterSpec("penalty", .choice(["l2", "l1", "none"]), default: .string("l2"), "the penalty on the weights (l1 by OWL-QN)"),
        ParameterSpec("max_iter", .int(minimum: 1), default: .int(100), "L-BFGS iterations at most"),
        ParameterSpec("tol", .double(minimum: 0, exclusive: true), default: .double(1e-4), "stop when the largest gradient component is below this"),
        ParameterSpec("fit_intercept", .bool, default: .bool(true), "learn an intercept per class"),
        ParameterSpec("class_weight", .classWeight, default: .string("none"), "none, balanced, or LABEL:WEIGHT,..."),
    ]

    /// How the weights are penalized (scikit-learn's `penalty`).
    public enum Penalty: String, Sendable { case l2, l1, none }

    public var c: Double
    public var penalty: Penalty
    public var maxIterations: Int
    public var tolerance: Double
    public var fitIntercept: Bool
    public var classWeight: ClassWeight

    public init(c: Double = 1, penalty: Penalty = .l2, maxIterations: Int = 100, tolerance: Double = 1e-4,
                fitIntercept: Bool = true, classWeight: ClassWeight = .uniform) {
        self.c = c
        self.penalty = penalty
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.fitIntercept = fitIntercept
        self.classWeight = classWeight
    }

    public init(parameters p: Parameters) throws(UsageError) {
        self.init(c: p.double("C"), penalty: Penalty(rawValue: p.string("penalty"))!, maxIterations: p.int("max_iter"),
                  tolerance: p.double("tol"), fitIntercept: p.bool("fit_intercept"),
                  classWeight: try ClassWeight(parsing: p.string("class_weight")))
    }

    public var parameters: Parameters {
        var p = Parameters(defaults: Self.parameterSpecs)
        try! p.set("C", .double(c), specs: Self.parameterSpecs)
        try! p.set("penalty", .string(penalty.rawValue), specs: Self.parameterSpecs)
        try! p.set("max_iter", .int(maxIterations), specs: Self.parameterSpecs)
        try! p.set("tol", .double(tolerance), specs: Self.parameterSpecs)
        try! p.set("fit_intercept", .bool(fitIntercept), specs: Self.parameterSpecs)
        try! p.set("class_weight", .string(classWeight.text), specs: Self.parameterSpecs)
        return p
    }

    /// Fits by L-BFGS from zero weights.
    /// - Throws: `FitError` for a single class, NaN, or mismatched lengths.
    public func fit(_ x: FeatureMatrix, _ y: [Int], classes: [String]) throws -> FittedLogisticRegression {
        let classCount = classes.count
        try validateClassifierInputs(x, y, classCount: classCount)
        let weights = try classWeight.weights(for: y, classes: classes)
        let sampleWeights = y.map { weights[$0] }
        guard (1 / (c * sampleWeights.reduce(0, +))).isFinite else {
            throw FitError.unsupportedInput("C=\(c) is too small to compute with (the penalty 1/C overflows)")
        }
        // The coefficients, the gradient and L-BFGS's ten pairs of steps and gradient changes,
        // before the objective's sparse transpose (row offsets per feature) is made.
        try checkParameterMemory([[classCount == 2 ? 1 : classCount, x.columnCount + 1]], copies: 24, what: "logreg")
        let objective = LogisticObjective(x: x, y: y, classCount: classCount, sampleWeights: sampleWeights,
                                          c: penalty == .l2 ? c : .infinity, fitIntercept: fitIntercept)
        let k = objective.k, f = x.columnCount
        let start = [Double](repeating: 0, count: k * (f + 1))
        let result: MinimizationResult
        if penalty == .l1 {
            // ‖W‖₁ / (C·S) on the weights only, matching the smooth part's 1/S scaling.
            result = try minimizeOWLQN(objective, start: start, l1: 1 / (c * sampleWeights.reduce(0, +)), penalizedCount: k * f,
                                       gradientTolerance: tolerance, maxIterations: maxIterations)
        } else {
            result = try minimizeLBFGS(objective, start: start, gradientTolerance: tolerance, maxIterations: maxIterations)
        }
        let w = result.solution
        let coefficients = try LinearClassifierCoefficients(
            weights: try Matrix(rowCount: f, columnCount: k, elements: Array(w[0..<(k * f)])).transposed(),
            intercepts: Array(w[(k * f)...]))
        return FittedLogisticRegression(estimator: self, classCount: classCount, coefficients: coefficients,
                                        iterations: result.iterations, converged: result.converged)
    }
}

/// A fitted logistic regression.
public struct FittedLogisticRegression: LinearFittedClassifier, Equatable {
    public let estimator: LogisticRegression
    public let classCount: Int
    public let coefficients: LinearClassifierCoefficients
    /// L-BFGS iterations used (0 when read from a file).
    public let iterations: Int
    public let converged: Bool?

    public func probabilities(_ x: FeatureMatrix) throws -> Matrix? {
        let z = try decisionFunction(x)
        var p = Matrix(rowCount: z.rowCount, columnCount: classCount)
        for i in 0..<z.rowCount {
            if z.columnCount == 1 {
                let positive = sigmoid(z[i, 0])
                p[i, 0] = 1 - positive
                p[i, 1] = positive
            } else {
                var top = -Double.infinity
                for c in 0..<classCount { top = max(top, z[i, c]) }
                var total = 0.0
                for c in 0..<classCount { total += exp(z[i, c] - top) }
                for c in 0..<classCount { p[i, c] = exp(z[i, c] - top) / total }
            }
        }
        return p
    }
}

extension FittedLogisticRegression {
    public init(tensors: [String: Tensor], parameters: Parameters, classCount: Int, location: String) throws(InputError) {
        estimator = try LogisticRegression(parameters: parameters, readFrom: location)
        self.classCount = classCount
        coefficients = try LinearClassifierCoefficients(tensors: tensors, classCount: classCount, location: location)
        iterations = 0
        converged = nil
    }
}

@inline(__always) func sigmoid(_ z: Double) -> Double { z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)) }

/// `log(1 + eᶻ)` without overflow.
@inline(__always) func softplus(_ z: Double) -> Double { z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)) }

/// The mean weighted log-loss plus `‖W‖² / (2·C·S)` (S = total sample weight), over the
/// parameters packed feature-major as `W` (`features × k`, row-major, so `X·W` and the gradient
/// `Xᵀ·R` need no transposes and every vector operation is contiguous) then the `k` intercepts.
struct LogisticObjective: DifferentiableObjective {
    let x: FeatureMatrix
    let y: [Int]
    let classCount: Int
    let sampleWeights: [Double]
    let c: Double
    let fitIntercept: Bool
    /// Xᵀ in CSR form for sparse X, built once: the gradient's `Xᵀ·R` becomes a row gather.
    private let sparseTranspose: SparseMatrix?

    init(x: FeatureMatrix, y: [Int], classCount: Int, sampleWeights: [Double], c: Double, fitIntercept: Bool) {
        self.x = x
        self.y = y
        self.classCount = classCount
        self.sampleWeights = sampleWeights
        self.c = c
        self.fitIntercept = fitIntercept
        if case let .sparse(s) = x { sparseTranspose = s.transposed() } else { sparseTranspose = nil }
    }
    /// Weight vectors: 1 for two classes (class 1 against class 0), else one per class.
    var k: Int { classCount == 2 ? 1 : classCount }

    func evaluate(_ w: [Double], gradient: inout [Double]) throws -> Double {
        let f = x.columnCount, n = x.rowCount, k = self.k
        let weights = try Matrix(rowCount: f, columnCount: k, elements: Array(w[0..<(k * f)]))
        var z = try x.multiply(weights)
        let totalWeight = sampleWeights.reduce(0, +)
        var loss = 0.0
        var interceptGradient = [Double](repeating: 0, count: k)
        // z becomes the residual (probability − indicator), weighted, in place.
        z.withUnsafeMutableBufferPointer { r in
            for i in 0..<n {
                let s = sampleWeights[i]
                let base = i * k
                if k == 1 {
                    let v = r[i] + w[f]
                    let target = y[i] == 1 ? 1.0 : 0.0
                    loss += s * (softplus(v) - target * v)
                    r[i] = s * (sigmoid(v) - target)
                } else {
                    var top = -Double.infinity
                    for c in 0..<k {
                        r[base + c] += w[k * f + c]
                        top = max(top, r[base + c])
                    }
                    var total = 0.0
                    for c in 0..<k { total += exp(r[base + c] - top) }
                    let logTotal = top + log(total)
                    loss += s * (logTotal - r[base + y[i]])
                    for c in 0..<k { r[base + c] = s * (exp(r[base + c] - logTotal) - (c == y[i] ? 1 : 0)) }
                }
                for c in 0..<k { interceptGradient[c] += r[base + c] }
            }
        }
        let g = try sparseTranspose?.multiply(z) ?? x.transposeMultiply(z)  // f × k, the same layout as W
        let penalty = c.isFinite ? 1 / (c * totalWeight) : 0
        var squaredNorm = 0.0
        g.withUnsafeBufferPointer { gp in
            w.withUnsafeBufferPointer { wp in
                gradient.withUnsafeMutableBufferPointer { out in
                    for e in 0..<(f * k) {
                        out[e] = gp[e] / totalWeight + penalty * wp[e]
                        squaredNorm += wp[e] * wp[e]
                    }
                }
            }
        }
        for c in 0..<k { gradient[k * f + c] = fitIntercept ? interceptGradient[c] / totalWeight : 0 }
        return loss / totalWeight + 0.5 * penalty * squaredNorm
    }
}
