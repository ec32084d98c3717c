import Linalg

/// An estimator that predicts a class. Labels reach it as indices `0..<classCount` into the
/// dataset's sorted class list (scikit-learn's `classes_`).
public protocol Classifier: Estimator {
    associatedtype Fitted: FittedClassifier
    /// Fits on `x` (`rows × features`) and class indices `y` (one per row, in
    /// `0..<classes.count`); `classes` are the labels, for per-class settings.
    /// - Throws: `FitError` for unusable data (fewer than two classes, NaN, a weight for an
    ///   unknown class, ...).
    func fit(_ x: FeatureMatrix, _ y: [Int], classes: [String]) throws -> Fitted
}

extension Classifier {
    /// Fits with classes labelled `0`, `1`, … (for callers without label names).
    public func fit(_ x: FeatureMatrix, _ y: [Int], classCount: Int) throws -> Fitted {
        try fit(x, y, classes: (0..<classCount).map(String.init))
    }
}

/// A fitted classifier: decision values, and probabilities where the model has them.
public protocol FittedClassifier: FittedModel {
    /// Number of classes it tells apart.
    var classCount: Int { get }
    /// Rebuilds the model from a model file's tensors.
    /// - Throws: `InputError` when a tensor is missing or has the wrong shape or values.
    init(tensors: [String: Tensor], parameters: Parameters, classCount: Int, location: String) throws(InputError)
    /// Decision values: `rows × 1` for two classes (positive means class 1), else `rows × classCount`.
    /// - Throws: `FitError.featureCountMismatch`, `.nonFiniteFeatures`.
    func decisionFunction(_ x: FeatureMatrix) throws -> Matrix
    /// Class probabilities, `rows × classCount`, or nil for a model without them.
    func probabilities(_ x: FeatureMatrix) throws -> Matrix?
}

extension FittedClassifier {
    /// The predicted class index of each row: the largest decision value (for two classes,
    /// class 1 when the decision is positive).
    public func predictClasses(_ x: FeatureMatrix) throws -> [Int] {
        let d = try decisionFunction(x)
        return (0..<d.rowCount).map { i in
            if d.columnCount == 1 { return d[i, 0] > 0 ? 1 : 0 }
            var best = 0
            for c in 1..<d.columnCount where d[i, c] > d[i, best] { best = c }
            return best
        }
    }
}

/// A fitted classifier whose decision function is linear: width, tensors and decision values
/// come from its coefficients.
protocol LinearFittedClassifier: FittedClassifier {
    var coefficients: LinearClassifierCoefficients { get }
}

extension LinearFittedClassifier {
    public var featureCount: Int { coefficients.featureCount }
    public func tensors() -> [String: Tensor] { coefficients.tensors() }
    public func decisionFunction(_ x: FeatureMatrix) throws -> Matrix { try coefficients.decision(x) }
}

/// Linear decision functions `X·Wᵀ + b`: one row of `W` for two classes, one per class
/// otherwise. Stored as `coef` `[k, features]` and `intercept` `[k]`.
public struct LinearClassifierCoefficients: Sendable, Equatable {
    /// `k × features`.
    public let weights: Matrix
    /// Length `k`.
    public let intercepts: [Double]

    init(weights: Matrix, intercepts: [Double]) throws(FitError) {
        guard weights.isFinite, intercepts.allSatisfy(\.isFinite) else { throw .nonFiniteModel }
        self.weights = weights
        self.intercepts = intercepts
    }

    init(tensors: [String: Tensor], classCount: Int, location: String) throws(InputError) {
        let k = classCount == 2 ? 1 : classCount
        guard let w = tensors["coef"], let wv = w.doubles, w.shape.count == 2, w.shape[0] == k, w.shape[1] >= 1 else {
            throw InputError("tensor coef is missing or is not F64 of shape [\(k), features]", at: location)
        }
        guard let b = tensors["intercept"], let bv = b.doubles, b.shape == [k] else {
            throw InputError("tensor intercept is missing or is not F64 of shape [\(k)]", at: location)
        }
        guard wv.allSatisfy(\.isFinite), bv.allSatisfy(\.isFinite) else {
            throw InputError("coef or intercept holds NaN or infinity", at: location)
        }
        weights = try! Matrix(rowCount: k, columnCount: w.shape[1], elements: wv)
        intercepts = bv
    }

    var featureCount: Int { weights.columnCount }

    func tensors() -> [String: Tensor] {
        ["coef": Tensor(weights.elements, shape: weights.shape), "intercept": Tensor(intercepts, shape: [intercepts.count])]
    }

    /// `rows × k` decision values.
    func decision(_ x: FeatureMatrix) throws -> Matrix {
        try validatePredictInputs(x, featureCount: featureCount)
        var z = try x.multiply(weights, transposed: true)
        let k = intercepts.count
        z.withUnsafeMutableBufferPointer { v in
            for p in v.indices { v[p] += intercepts[p % k] }
        }
        return z
    }
}

extension FeatureMatrix {
    /// `X·B` (or `X·Bᵀ` with `transposed`), dense result; BLAS for dense `X`.
    func multiply(_ b: Matrix, transposed: Bool = false) throws(LinalgError) -> Matrix {
        switch self {
        case let .dense(m): return try Matrix.gemm(m, b, transposeB: transposed)
        case let .sparse(s):
            guard transposed else { return try s.multiply(b) }
            // Transposing B costs its size; worth it only when the product touches more than that.
            return s.storedCount < b.columnCount ? try s.multiply(transposed: b) : try s.multiply(b.transposed())
        }
    }

    /// `Xᵀ·B`, dense result.
    func transposeMultiply(_ b: Matrix) throws(LinalgError) -> Matrix {
        switch self {
        case let .dense(m): return try Matrix.gemm(m, b, transposeA: true)
        case let .sparse(s): return try s.transposeMultiply(b)
        }
    }

    /// `out ← X·B` in place.
    func multiply(_ b: Matrix, into out: inout Matrix) throws(LinalgError) {
        switch self {
        case let .dense(m): try Matrix.gemm(m, b, into: &out)
        case let .sparse(s): try s.multiply(b, into: &out)
        }
    }

    /// `out ← Xᵀ·B` in place.
    func transposeMultiply(_ b: Matrix, into out: inout Matrix) throws(LinalgError) {
        switch self {
        case let .dense(m): try Matrix.gemm(m, b, transposeA: true, into: &out)
        case let .sparse(s): try s.transposeMultiply(b, into: &out)
        }
    }
}

/// Checks classifier inputs: shapes, finiteness, labels in range, and at least two classes
/// present (one class leaves nothing to separate).
func validateClassifierInputs(_ x: FeatureMatrix, _ y: [Int], classCount: Int) throws(FitError) {
    try validateFitInputs(x, y.map { _ in 0 })
    guard y.allSatisfy({ (0..<classCount).contains($0) }) else { throw .unsupportedInput("class index out of range") }
    guard classCount >= 2, Set(y).count >= 2 else {
        throw .unsupportedInput("the training data holds a single class; a classifier needs at least two")
    }
}

/// scikit-learn's `class_weight`: every class 1, `balanced` (`n / (k · count(class))`), or
/// given weights per class label (classes not named keep 1).
public enum ClassWeight: Sendable, Equatable {
    case uniform
    case balanced
    case perClass([String: Double])

    /// Parses `none`, `balanced` or `LABEL:WEIGHT,LABEL:WEIGHT` (weights finite and > 0).
    /// - Throws: `UsageError` for anything else.
    public init(parsing text: String) throws(UsageError) {
        switch text {
        case "none": self = .uniform
        case "balanced": self = .balanced
        default:
            var weights: [String: Double] = [:]
            for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let colon = item.lastIndex(of: ":"), colon != item.startIndex,
                      let w = Double(item[item.index(after: colon)...]), w.isFinite, w > 0,
                      weights[String(item[..<colon])] == nil else {
                    throw UsageError("class_weight=\(text): expected none, balanced, or LABEL:WEIGHT,... with weights > 0")
                }
                weights[String(item[..<colon])] = w
            }
            self = .perClass(weights)
        }
    }

    /// The canonical text (`--set` and model-file form).
    public var text: String {
        switch self {
        case .uniform: return "none"
        case .balanced: return "balanced"
        case let .perClass(w): return w.keys.sorted().map { "\($0):\(w[$0]!)" }.joined(separator: ",")
        }
    }

    /// One weight per class index.
    /// - Throws: `FitError.unsupportedInput` naming a weighted label that is not a class.
    func weights(for y: [Int], classes: [String]) throws(FitError) -> [Double] {
        switch self {
        case .uniform:
            return [Double](repeating: 1, count: classes.count)
        case .balanced:
            var counts = [Int](repeating: 0, count: classes.count)
            for c in y { counts[c] += 1 }
            return counts.map { $0 == 0 ? 1 : Double(y.count) / (Double(classes.count) * Double($0)) }
        case let .perClass(w):
            if let unknown = w.keys.sorted().first(where: { !classes.contains($0) }) {
                throw .unsupportedInput("class_weight names \(quoted(unknown)), which is not a class (classes: \(classes.joined(separator: ", ")))")
            }
            return classes.map { w[$0] ?? 1 }
        }
    }
}
