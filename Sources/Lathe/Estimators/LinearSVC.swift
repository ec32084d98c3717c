import Dispatch
import Foundation
import Linalg

/// A linear support-vector classifier (scikit-learn's `LinearSVC`, liblinear's L2-regularized
/// L1- or L2-loss SVC solved in the dual by coordinate descent, Hsieh et al., ICML 2008),
/// one-vs-rest for more than two classes. The intercept is a weight on a constant feature of
/// value `intercept_scaling` and is regularized, as liblinear does it.
public struct LinearSVC: Classifier, Equatable {
    public static let name = "svm"
    public static let parameterSpecs = [
        ParameterSpec("C", .double(minimum: 0, exclusive: true), default: .double(1), "inverse regularization strength"),
        ParameterSpec("loss", .choice(["squared_hinge", "hinge"]), default: .string("squared_hinge"), "the margin loss"),
        ParameterSpec("tol", .double(minimum: 0, exclusive: true), default: .double(1e-4), "stop when the projected-gradient spread is below this"),
        ParameterSpec("max_iter", .int(minimum: 1), default: .int(1000), "passes over the data at most"),
        ParameterSpec("fit_intercept", .bool, default: .bool(true), "learn an intercept"),
        ParameterSpec("intercept_scaling", .double(minimum: 0, exclusive: true), default: .double(1), "value of the constant feature behind the intercept"),
        ParameterSpec("class_weight", .classWeight, default: .string("none"), "none, balanced, or LABEL:WEIGHT,..."),
        ParameterSpec("random_state", .int(minimum: 0), default: .int(0), "seed of the coordinate order"),
    ]

    public var c: Double
    public var squaredHinge: Bool
    public var tolerance: Double
    public var maxIterations: Int
    public var fitIntercept: Bool
    public var interceptScaling: Double
    public var classWeight: ClassWeight
    public var randomState: Int

    public init(c: Double = 1, squaredHinge: Bool = true, tolerance: Double = 1e-4, maxIterations: Int = 1000,
                fitIntercept: Bool = true, interceptScaling: Double = 1, classWeight: ClassWeight = .uniform, randomState: Int = 0) {
        self.c = c
        self.squaredHinge = squaredHinge
        self.tolerance = tolerance
        self.maxIterations = maxIterations
        self.fitIntercept = fitIntercept
        self.interceptScaling = interceptScaling
        self.classWeight = classWeight
        self.randomState = randomState
    }

    public init(parameters p: Parameters) throws(UsageError) {
        self.init(c: p.double("C"), squaredHinge: p.string("loss") == "squared_hinge", tolerance: p.double("tol"),
                  maxIterations: p.int("max_iter"), fitIntercept: p.bool("fit_intercept"),
                  interceptScaling: p.double("intercept_scaling"), classWeight: try ClassWeight(parsing: p.string("class_weight")),
                  randomState: p.int("random_state"))
    }

    public var parameters: Parameters {
        var p = Parameters(defaults: Self.parameterSpecs)
        let specs = Self.parameterSpecs
        try! p.set("C", .double(c), specs: specs)
        try! p.set("loss", .string(squaredHinge ? "squared_hinge" : "hinge"), specs: specs)
        try! p.set("tol", .double(tolerance), specs: specs)
        try! p.set("max_iter", .int(maxIterations), specs: specs)
        try! p.set("fit_intercept", .bool(fitIntercept), specs: specs)
        try! p.set("intercept_scaling", .double(interceptScaling), specs: specs)
        try! p.set("class_weight", .string(classWeight.text), specs: specs)
        try! p.set("random_state", .int(randomState), specs: specs)
        return p
    }

    /// Fits one binary problem (class 1 against class 0), or one per class against the rest.
    /// - Throws: `FitError` for a single class, NaN or mismatched lengths.
    public func fit(_ x: FeatureMatrix, _ y: [Int], classes: [String]) throws -> FittedLinearSVC {
        let classCount = classes.count
        try validateClassifierInputs(x, y, classCount: classCount)
        let weights = try classWeight.weights(for: y, classes: classes)
        guard weights.allSatisfy({ (0.5 / (c * $0)).isFinite }) else {
            throw FitError.unsupportedInput("C=\(c) is too small to compute with (the dual diagonal 1/C overflows)")
        }
        let problems = classCount == 2 ? [1] : Array(0..<classCount)
        try checkParameterMemory([[problems.count, x.columnCount + 1]], copies: 2, what: "svm")
        let bias = fitIntercept ? interceptScaling : 0
        // One-vs-rest problems are independent: solve them on all cores, each with its own
        // seeded coordinate order, so the result does not depend on the thread count.
        let results = concurrentMap(count: problems.count, threads: BLAS.kernelThreadCount) { k -> DualSolution in
            let positive = problems[k]
            let signs = y.map { $0 == positive ? 1.0 : -1.0 }
            // liblinear: binary problems weigh each side by its class; one-vs-rest problems
            // give the rest plain C.
            let negativeC = classCount == 2 ? c * weights[0] : c
            let costs = y.map { $0 == positive ? c * weights[positive] : negativeC }
            var rng = MersenneTwister(seed: UInt32(truncatingIfNeeded: randomState))
            switch x {
            case let .dense(m):
                return m.withUnsafeBufferPointer { buffer in
                    solveDual(DenseRows(values: buffer, columnCount: m.columnCount), signs: signs, costs: costs, bias: bias, rng: &rng)
                }
            case let .sparse(s):
                return s.rowOffsets.withUnsafeBufferPointer { o in
                    s.columnIndices.withUnsafeBufferPointer { ci in
                        s.values.withUnsafeBufferPointer { v in
                            solveDual(SparseRows(offsets: o, columns: ci, values: v, columnCount: s.columnCount),
                                      signs: signs, costs: costs, bias: bias, rng: &rng)
                        }
                    }
                }
            }
        }
        let rows = results.map { Array($0.weights[0..<x.columnCount]) }
        let intercepts = results.map { fitIntercept ? $0.weights[x.columnCount] * bias : 0 }
        let converged = results.allSatisfy(\.converged)
        let coefficients = try LinearClassifierCoefficients(weights: try Matrix(rows: rows), intercepts: intercepts)
        return FittedLinearSVC(estimator: self, classCount: classCount, coefficients: coefficients, converged: converged)
    }

    private struct DualSolution: Sendable {
        var weights: [Double]
        var converged: Bool
    }

    /// liblinear's `solve_l2r_l1l2_svc`: dual coordinate descent with shrinking. The weight
    /// vector has one extra entry for the bias feature when `bias > 0`.
    private func solveDual<R: RowSource>(_ x: R, signs: [Double], costs: [Double], bias: Double, rng: inout MersenneTwister) -> DualSolution {
        let n = signs.count, f = x.columnCount
        var w = [Double](repeating: 0, count: f + 1)
        var alpha = [Double](repeating: 0, count: n)
        // L2 loss: no upper bound, diagonal 1/(2Cᵢ); L1 loss: bound Cᵢ, no diagonal.
        let upper = costs.map { squaredHinge ? Double.infinity : $0 }
        let diagonal = costs.map { squaredHinge ? 0.5 / $0 : 0 }
        let qd = (0..<n).map { diagonal[$0] + x.squaredNorm($0) + bias * bias }
        var index = Array(0..<n)
        var active = n
        var (oldMax, oldMin) = (Double.infinity, -Double.infinity)
        var iteration = 0
        var converged = false
        w.withUnsafeMutableBufferPointer { wp in
            while iteration < maxIterations {
                var (newMax, newMin) = (-Double.infinity, Double.infinity)
                for i in 0..<active {
                    let j = i + rng.nextInt(upTo: active - i - 1)
                    index.swapAt(i, j)
                }
                var s = 0
                while s < active {
                    let i = index[s]
                    let yi = signs[i]
                    let g = yi * (x.dot(i, wp) + bias * wp[f]) - 1 + alpha[i] * diagonal[i]
                    var projected = 0.0
                    if alpha[i] == 0 {
                        if g > oldMax {
                            active -= 1
                            index.swapAt(s, active)
                            continue
                        }
                        if g < 0 { projected = g }
                    } else if alpha[i] == upper[i] {
                        if g < oldMin {
                            active -= 1
                            index.swapAt(s, active)
                            continue
                        }
                        if g > 0 { projected = g }
                    } else {
                        projected = g
                    }
                    newMax = max(newMax, projected)
                    newMin = min(newMin, projected)
                    if abs(projected) > 1e-12 {
                        let previous = alpha[i]
                        alpha[i] = min(max(alpha[i] - g / qd[i], 0), upper[i])
                        let step = (alpha[i] - previous) * yi
                        x.addScaledRow(i, step, to: wp)
                        wp[f] += step * bias
                    }
                    s += 1
                }
                iteration += 1
                if newMax - newMin <= tolerance {
                    if active == n { converged = true; break }
                    // Shrunken coordinates might have moved: check them all once more.
                    active = n
                    (oldMax, oldMin) = (.infinity, -.infinity)
                    continue
                }
                oldMax = newMax <= 0 ? .infinity : newMax
                oldMin = newMin >= 0 ? -.infinity : newMin
            }
        }
        return DualSolution(weights: w, converged: converged)
    }
}

/// A fitted linear SVM: decision values only (no probabilities, as scikit-learn's `LinearSVC`).
public struct FittedLinearSVC: LinearFittedClassifier, Equatable {
    public let estimator: LinearSVC
    public let classCount: Int
    public let coefficients: LinearClassifierCoefficients
    public let converged: Bool?

    public func probabilities(_ x: FeatureMatrix) throws -> Matrix? { nil }
}

extension FittedLinearSVC {
    public init(tensors: [String: Tensor], parameters: Parameters, classCount: Int, location: String) throws(InputError) {
        estimator = try LinearSVC(parameters: parameters, readFrom: location)
        self.classCount = classCount
        coefficients = try LinearClassifierCoefficients(tensors: tensors, classCount: classCount, location: location)
        converged = nil
    }
}

/// Row access for the coordinate-descent solvers, specialized for dense and CSR storage so the
/// inner loops have no dynamic dispatch.
protocol RowSource {
    var columnCount: Int { get }
    func squaredNorm(_ row: Int) -> Double
    func dot(_ row: Int, _ w: UnsafeMutableBufferPointer<Double>) -> Double
    func addScaledRow(_ row: Int, _ scale: Double, to w: UnsafeMutableBufferPointer<Double>)
}

struct DenseRows: RowSource {
    let values: UnsafeBufferPointer<Double>
    let columnCount: Int

    func squaredNorm(_ row: Int) -> Double {
        var s = 0.0
        for j in 0..<columnCount { s += values[row * columnCount + j] * values[row * columnCount + j] }
        return s
    }

    @inline(__always) func dot(_ row: Int, _ w: UnsafeMutableBufferPointer<Double>) -> Double {
        var s = 0.0
        let base = row * columnCount
        for j in 0..<columnCount { s += values[base + j] * w[j] }
        return s
    }

    @inline(__always) func addScaledRow(_ row: Int, _ scale: Double, to w: UnsafeMutableBufferPointer<Double>) {
        let base = row * columnCount
        for j in 0..<columnCount { w[j] += scale * values[base + j] }
    }
}

struct SparseRows: RowSource {
    let offsets: UnsafeBufferPointer<Int>
    let columns: UnsafeBufferPointer<Int32>
    let values: UnsafeBufferPointer<Double>
    let columnCount: Int

    func squaredNorm(_ row: Int) -> Double {
        var s = 0.0
        for p in offsets[row]..<offsets[row + 1] { s += values[p] * values[p] }
        return s
    }

    @inline(__always) func dot(_ row: Int, _ w: UnsafeMutableBufferPointer<Double>) -> Double {
        var s = 0.0
        for p in offsets[row]..<offsets[row + 1] { s += values[p] * w[Int(columns[p])] }
        return s
    }

    @inline(__always) func addScaledRow(_ row: Int, _ scale: Double, to w: UnsafeMutableBufferPointer<Double>) {
        for p in offsets[row]..<offsets[row + 1] { w[Int(columns[p])] += scale * values[p] }
    }
}
