import Foundation
import Linalg

/// The hyper-parameters both tree estimators share, with scikit-learn's names and defaults
/// (`random_state` defaults to 0 so fits repeat).
private func treeParameterSpecs(criteria: [String]) -> [ParameterSpec] {
    [
        ParameterSpec("criterion", .choice(criteria), default: .string(criteria[0]), "the impurity a split decreases"),
        ParameterSpec("max_depth", .optionalInt(minimum: 1), default: .none, "deepest level, or none for no limit"),
        ParameterSpec("min_samples_split", .countOrFraction(minimum: 2), default: .int(2), "samples a node needs to be split (count or fraction)"),
        ParameterSpec("min_samples_leaf", .countOrFraction(minimum: 1), default: .int(1), "samples each leaf keeps at least (count or fraction)"),
        ParameterSpec("min_impurity_decrease", .double(minimum: 0, exclusive: false), default: .double(0), "weighted impurity decrease a split must reach"),
        ParameterSpec("max_features", .maxFeatures, default: .none, "features examined per split: sqrt, log2, a count, a fraction, or none (all)"),
        ParameterSpec("max_leaf_nodes", .optionalInt(minimum: 2), default: .none, "grow best-first up to this many leaves"),
        ParameterSpec("random_state", .int(minimum: 0), default: .int(0), "seed of the feature sampling"),
    ]
}

/// Stopping rules and sampling, as scikit-learn reads them, before they meet the data.
public struct TreeGrowth: Sendable, Equatable {
    public var maxDepth: Int?
    public var minSamplesSplit: ParameterValue
    public var minSamplesLeaf: ParameterValue
    public var minImpurityDecrease: Double
    public var maxFeatures: ParameterValue
    public var maxLeafNodes: Int?
    public var randomState: Int

    public init(maxDepth: Int? = nil, minSamplesSplit: ParameterValue = .int(2), minSamplesLeaf: ParameterValue = .int(1),
                minImpurityDecrease: Double = 0, maxFeatures: ParameterValue = .none, maxLeafNodes: Int? = nil,
                randomState: Int = 0) {
        self.maxDepth = maxDepth
        self.minSamplesSplit = minSamplesSplit
        self.minSamplesLeaf = minSamplesLeaf
        self.minImpurityDecrease = minImpurityDecrease
        self.maxFeatures = maxFeatures
        self.maxLeafNodes = maxLeafNodes
        self.randomState = randomState
    }

    init(parameters p: Parameters) {
        self.init(maxDepth: p.optionalInt("max_depth"), minSamplesSplit: p["min_samples_split"],
                  minSamplesLeaf: p["min_samples_leaf"], minImpurityDecrease: p.double("min_impurity_decrease"),
                  maxFeatures: p["max_features"], maxLeafNodes: p.optionalInt("max_leaf_nodes"),
                  randomState: p.int("random_state"))
    }

    func write(to p: inout Parameters, specs: [ParameterSpec]) {
        try! p.set("max_depth", maxDepth.map { .int($0) } ?? .none, specs: specs)
        try! p.set("min_samples_split", minSamplesSplit, specs: specs)
        try! p.set("min_samples_leaf", minSamplesLeaf, specs: specs)
        try! p.set("min_impurity_decrease", .double(minImpurityDecrease), specs: specs)
        try! p.set("max_features", maxFeatures, specs: specs)
        try! p.set("max_leaf_nodes", maxLeafNodes.map { .int($0) } ?? .none, specs: specs)
        try! p.set("random_state", .int(randomState), specs: specs)
    }

    /// The counts for `rows × features` data, as scikit-learn resolves fractions and words.
    /// - Throws: `FitError` when `max_features` asks for more features than there are.
    func settings(rows: Int, features: Int) throws(FitError) -> TreeSettings {
        func count(_ value: ParameterValue) -> Int {
            switch value {
            case let .int(i): return i
            case let .double(f): return Int((f * Double(rows)).rounded(.up))
            default: preconditionFailure("count or fraction expected")
            }
        }
        let leaf = max(1, count(minSamplesLeaf))
        let split = max(2, count(minSamplesSplit), 2 * leaf)
        let examined: Int
        switch maxFeatures {
        case .string("sqrt"): examined = max(1, Int(Double(features).squareRoot()))
        case .string("log2"): examined = max(1, Int(log2(Double(features))))
        case let .int(k):
            guard k <= features else { throw .unsupportedInput("max_features=\(k) but the data has \(features) features") }
            examined = k
        case let .double(f): examined = max(1, Int(f * Double(features)))
        default: examined = features
        }
        return TreeSettings(maxDepth: maxDepth ?? Int.max, minSamplesSplit: split, minSamplesLeaf: leaf,
                            minImpurityDecrease: minImpurityDecrease, maxFeatures: examined, maxLeafNodes: maxLeafNodes,
                            seed: UInt32(truncatingIfNeeded: randomState))
    }
}

/// Grows a tree on `x` with `criterion`: over presorted columns when `x` is dense, over
/// compressed sparse columns when it is sparse.
/// - Throws: `FitError` for values beyond single precision or `max_features` beyond the
///   feature count.
private func growTree<C: SplitCriterion>(_ x: FeatureMatrix, criterion: C, growth: TreeGrowth) throws(FitError)
    -> (tree: TreeStructure, featureImportances: [Double]) {
    var criterion = criterion
    // Per feature: the sparse transpose's row offsets, the shuffled feature list, the importances.
    try checkParameterMemory([[x.columnCount]], copies: 3, what: "the tree")
    let settings = try growth.settings(rows: x.rowCount, features: x.columnCount)
    func grow<Columns: TreeColumns>(_ columns: Columns) -> (TreeStructure, [Double]) {
        var columns = columns
        var builder = TreeBuilder<C, Columns>(featureCount: x.columnCount, outputCount: criterion.outputCount, settings: settings)
        builder.build(&columns, &criterion)
        return (builder.tree, builder.featureImportances)
    }
    switch x {
    case let .dense(m): return grow(try denseTreeColumns(m))
    case let .sparse(s): return grow(try SparseTreeColumns(transposed: s.transposed()))
    }
}

/// Dense features column by column in single precision, as the tree builder reads them.
/// - Throws: `FitError` for values beyond single precision.
private func denseTreeColumns(_ m: Matrix) throws(FitError) -> DenseTreeColumns {
    let n = m.rowCount, f = m.columnCount
    var columns = [Float](repeating: 0, count: n * f)
    var representable = true
    m.withUnsafeBufferPointer { v in
        columns.withUnsafeMutableBufferPointer { c in
            for i in 0..<n {
                for j in 0..<f {
                    let value = v[i * f + j]
                    if abs(value) > Double(Float.greatestFiniteMagnitude) { representable = false }
                    c[j * n + i] = Float(value)
                }
            }
        }
    }
    guard representable else { throw .unsupportedInput("a feature value is too large for a tree (beyond single precision)") }
    return DenseTreeColumns(columns: columns, rowCount: n, featureCount: f)
}

/// A CART decision tree classifier (scikit-learn's `DecisionTreeClassifier`): leaves hold
/// class fractions, which are the probabilities.
public struct DecisionTreeClassifier: Classifier, Equatable {
    public static let name = "tree"
    public static let parameterSpecs = treeParameterSpecs(criteria: ["gini", "entropy", "log_loss"])
        + [ParameterSpec("class_weight", .classWeight, default: .string("none"), "none, balanced, or LABEL:WEIGHT,...")]

    public var criterion: String
    public var growth: TreeGrowth
    public var classWeight: ClassWeight

    public init(criterion: String = "gini", growth: TreeGrowth = TreeGrowth(), classWeight: ClassWeight = .uniform) {
        self.criterion = criterion
        self.growth = growth
        self.classWeight = classWeight
    }

    public init(parameters p: Parameters) throws(UsageError) {
        self.init(criterion: p.string("criterion"), growth: TreeGrowth(parameters: p),
                  classWeight: try ClassWeight(parsing: p.string("class_weight")))
    }

    public var parameters: Parameters {
        var p = Parameters(defaults: Self.parameterSpecs)
        try! p.set("criterion", .string(criterion), specs: Self.parameterSpecs)
        growth.write(to: &p, specs: Self.parameterSpecs)
        try! p.set("class_weight", .string(classWeight.text), specs: Self.parameterSpecs)
        return p
    }

    /// Grows the tree on dense or sparse features.
    /// - Throws: `FitError` for a single class, NaN, or `max_features` beyond the feature count.
    public func fit(_ x: FeatureMatrix, _ y: [Int], classes: [String]) throws -> FittedDecisionTreeClassifier {
        try validateClassifierInputs(x, y, classCount: classes.count)
        let weights = try classWeight.weights(for: y, classes: classes)
        let kind: ClassificationCriterion.Kind = criterion == "gini" ? .gini : .entropy
        let impurity = ClassificationCriterion(kind: kind, labels: y.map { Int32($0) }, sampleWeights: y.map { weights[$0] },
                                               classCount: classes.count)
        let grown = try growTree(x, criterion: impurity, growth: growth)
        return FittedDecisionTreeClassifier(estimator: self, classCount: classes.count, tree: grown.tree,
                                            featureImportances: grown.featureImportances)
    }
}

/// A fitted decision tree classifier.
public struct FittedDecisionTreeClassifier: FittedClassifier, Equatable {
    public let estimator: DecisionTreeClassifier
    public let classCount: Int
    public let tree: TreeStructure
    /// Each feature's share of the total weighted impurity decrease (sums to 1 unless the tree
    /// is a lone leaf).
    public let featureImportances: [Double]

    public var featureCount: Int { featureImportances.count }

    public func tensors() -> [String: Tensor] { tree.tensors(featureImportances: featureImportances) }

    public func probabilities(_ x: FeatureMatrix) throws -> Matrix? {
        try tree.predict(x, featureCount: featureCount)
    }

    /// Two classes: `p(class 1) − p(class 0)`; more: the probabilities.
    public func decisionFunction(_ x: FeatureMatrix) throws -> Matrix {
        let p = try tree.predict(x, featureCount: featureCount)
        guard classCount == 2 else { return p }
        return try Matrix(rowCount: p.rowCount, columnCount: 1, elements: (0..<p.rowCount).map { p[$0, 1] - p[$0, 0] })
    }
}

extension FittedDecisionTreeClassifier {
    public init(tensors: [String: Tensor], parameters: Parameters, classCount: Int, location: String) throws(InputError) {
        estimator = try DecisionTreeClassifier(parameters: parameters, readFrom: location)
        self.classCount = classCount
        featureImportances = try readFeatureImportances(tensors, location: location)
        tree = try TreeStructure(tensors: tensors, outputCount: classCount, featureCount: featureImportances.count, location: location)
        guard tree.value.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
            throw InputError("tree.value holds class fractions outside [0, 1]", at: location)
        }
    }
}

/// A CART regression tree (scikit-learn's `DecisionTreeRegressor`): leaves predict the mean
/// (`squared_error`) or the median (`absolute_error`) of their samples.
public struct DecisionTreeRegressor: Regressor, Equatable {
    public static let name = "tree"
    public static let parameterSpecs = treeParameterSpecs(criteria: ["squared_error", "absolute_error"])

    public var criterion: String
    public var growth: TreeGrowth

    public init(criterion: String = "squared_error", growth: TreeGrowth = TreeGrowth()) {
        self.criterion = criterion
        self.growth = growth
    }

    public init(parameters p: Parameters) throws(UsageError) {
        self.init(criterion: p.string("criterion"), growth: TreeGrowth(parameters: p))
    }

    public var parameters: Parameters {
        var p = Parameters(defaults: Self.parameterSpecs)
        try! p.set("criterion", .string(criterion), specs: Self.parameterSpecs)
        growth.write(to: &p, specs: Self.parameterSpecs)
        return p
    }

    /// Grows the tree on dense or sparse features.
    /// - Throws: `FitError` for NaN or `max_features` beyond the feature count.
    public func fit(_ x: FeatureMatrix, _ y: [Double]) throws -> FittedDecisionTreeRegressor {
        try validateFitInputs(x, y)
        let grown = criterion == "absolute_error"
            ? try growTree(x, criterion: AbsoluteErrorCriterion(targets: y), growth: growth)
            : try growTree(x, criterion: SquaredErrorCriterion(targets: y), growth: growth)
        return FittedDecisionTreeRegressor(estimator: self, tree: grown.tree, featureImportances: grown.featureImportances)
    }
}

/// A fitted regression tree.
public struct FittedDecisionTreeRegressor: FittedRegressor, Equatable {
    public let estimator: DecisionTreeRegressor
    public let tree: TreeStructure
    public let featureImportances: [Double]

    public var featureCount: Int { featureImportances.count }

    public func tensors() -> [String: Tensor] { tree.tensors(featureImportances: featureImportances) }

    public func predict(_ x: FeatureMatrix) throws -> [Double] {
        try tree.predict(x, featureCount: featureCount).elements
    }
}

extension FittedDecisionTreeRegressor {
    public init(tensors: [String: Tensor], parameters: Parameters, location: String) throws(InputError) {
        estimator = try DecisionTreeRegressor(parameters: parameters, readFrom: location)
        featureImportances = try readFeatureImportances(tensors, location: location)
        tree = try TreeStructure(tensors: tensors, outputCount: 1, featureCount: featureImportances.count, location: location)
    }
}

/// `feature_importances`, whose length is the model's feature count.
private func readFeatureImportances(_ tensors: [String: Tensor], location: String) throws(InputError) -> [Double] {
    guard let t = tensors["feature_importances"], let v = t.doubles, t.shape.count == 1, t.shape[0] >= 1 else {
        throw InputError("tensor feature_importances is missing or is not F64 of shape [features]", at: location)
    }
    guard v.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
        throw InputError("feature_importances holds negative, NaN or infinite values", at: location)
    }
    return v
}
