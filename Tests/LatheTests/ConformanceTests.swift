import Foundation
@testable import Lathe
import Linalg
import TestSupport
import Testing

/// The checks every regressor must pass, whatever its algorithm (after scikit-learn's common
/// estimator checks): deterministic fits, row order kept, bad widths and NaN rejected, and a
/// model-file round trip that predicts identically.
func checkRegressorConformance<R: Regressor>(_ estimator: R, x: Matrix, y: [Double]) throws {
    let first = try estimator.fit(x, y)
    let second = try estimator.fit(x, y)
    let predictions = try first.predict(x)
    #expect(try second.predict(x) == predictions, "\(R.name): two fits differ")
    #expect(predictions.count == x.rowCount)
    #expect(predictions.allSatisfy { $0.isFinite })

    let reversed = Array((0..<x.rowCount).reversed())
    #expect(try first.predict(x.rows(reversed)) == reversed.map { predictions[$0] }, "\(R.name): row order not kept")

    let narrow = Matrix(rowCount: 2, columnCount: x.columnCount - 1)
    #expect(throws: FitError.featureCountMismatch(expected: x.columnCount, got: x.columnCount - 1)) {
        try first.predict(narrow)
    }
    var poisoned = x
    poisoned[0, 0] = .nan
    #expect(throws: FitError.nonFiniteFeatures) { try estimator.fit(poisoned, y) }
    #expect(throws: FitError.nonFiniteFeatures) { try first.predict(poisoned) }
    var badTargets = y
    badTargets[1] = .infinity
    #expect(throws: FitError.nonFiniteTargets) { try estimator.fit(x, badTargets) }
    #expect(throws: FitError.targetCountMismatch(rows: x.rowCount, targets: y.count - 1)) {
        try estimator.fit(x, Array(y.dropLast()))
    }
    #expect(throws: FitError.self) { try estimator.fit(Matrix(rowCount: 0, columnCount: x.columnCount), []) }

    let names = (0..<x.columnCount).map { "f\($0)" }
    let trained = TrainedModel(estimator: R.name, task: .regression, parameters: estimator.parameters,
                               featureNames: names, fitted: .regressor(first),
                               training: TrainingInfo(rows: x.rowCount, dataName: "t", dataSHA256: "", crossValidationMeans: nil))
    let bytes = ModelFile.container(for: trained).serialized()
    let loaded = try ModelFile.decode(bytes, location: "roundtrip")
    #expect(loaded.estimator == R.name)
    #expect(loaded.parameters == estimator.parameters)
    #expect(try loaded.predict(transformed: .dense(x)) == predictions.map { .value($0) }, "\(R.name): model file changes predictions")
}

/// Fitted models cross task boundaries (parallel folds, the server): they must be Sendable.
func requireSendable<T: Sendable>(_: T.Type) {}

@Suite struct ConformanceTests {
    static func problem() -> (Matrix, [Double]) {
        var rng = SeededGenerator(seed: 11)
        let x = try! Matrix(rowCount: 40, columnCount: 4, elements: (0..<160).map { _ in Double.random(in: -3...3, using: &rng) })
        let y = (0..<40).map { i in 1 + 2 * x[i, 0] - x[i, 2] + 0.1 * Double.random(in: -1...1, using: &rng) }
        return (x, y)
    }

    @Test func linearRegression() throws {
        let (x, y) = Self.problem()
        try checkRegressorConformance(LinearRegression(), x: x, y: y)
        try checkRegressorConformance(LinearRegression(fitIntercept: false), x: x, y: y)
    }

    @Test func ridge() throws {
        let (x, y) = Self.problem()
        try checkRegressorConformance(Ridge(alpha: 0.5), x: x, y: y)
        try checkRegressorConformance(Ridge(alpha: 3, fitIntercept: false), x: x, y: y)
    }

    @Test func mlp() throws {
        let (x, y) = Self.problem()
        var training = MLPTraining()
        training.hiddenLayerSizes = [8, 4]
        training.maxIterations = 30
        try checkRegressorConformance(MLPRegressor(training: training), x: x, y: y)
        training.solver = .sgd
        training.activation = .tanh
        try checkRegressorConformance(MLPRegressor(training: training), x: x, y: y)
    }

    @Test func everyRegisteredEstimatorRoundTrips() async throws {
        let (x, y) = Self.problem()
        let data = Dataset(name: "t", features: .numeric(x, names: ["a", "b", "c", "d"]),
                           targets: y.map { "\($0)" }, sha256: "")
        for entry in EstimatorRegistry.entries where entry.implementations[.regression] != nil {
            let model = try await ModelSpec(name: entry.name, task: .regression).fit(data)
            let loaded = try ModelFile.decode(ModelFile.container(for: model).serialized(), location: entry.name)
            let (a, b) = (try await loaded.predict(data), try await model.predict(data))
            #expect(a == b)
        }
    }

    @Test func fittedTypesAreSendable() {
        requireSendable(FittedLinearRegression.self)
        requireSendable(FittedRidge.self)
        requireSendable(FittedMLPClassifier.self)
        requireSendable(FittedMLPRegressor.self)
        requireSendable(FittedDecisionTreeClassifier.self)
        requireSendable(TrainedModel.self)
        #expect(Bool(true))
    }
}

@Suite struct PropertyTests {
    /// OLS does not depend on the order of the rows.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func permutingRowsDoesNotChangeOLS(seed: UInt64) throws {
        let (x, y) = ConformanceTests.problem()
        var rng = SeededGenerator(seed: seed)
        let order = Array(0..<x.rowCount).shuffled(using: &rng)
        let a = try LinearRegression().fit(x, y).coefficients
        let b = try LinearRegression().fit(x.rows(order), order.map { y[$0] }).coefficients
        #expect(maxRelativeDifference(b.weights, a.weights) < 1e-10)
        #expect(abs(b.intercept - a.intercept) < 1e-10)
    }

    /// Ridge with α → 0 approaches OLS; larger α shrinks the weights.
    @Test func ridgeShrinksTowardZero() throws {
        let (x, y) = ConformanceTests.problem()
        let ols = try LinearRegression().fit(x, y).coefficients.weights
        let tiny = try Ridge(alpha: 1e-10).fit(x, y).coefficients.weights
        #expect(maxRelativeDifference(tiny, ols) < 1e-8)
        let norms = try [0.1, 10, 1000].map { alpha in
            try Ridge(alpha: alpha).fit(x, y).coefficients.weights.reduce(0) { $0 + $1 * $1 }
        }
        #expect(norms[0] > norms[1] && norms[1] > norms[2])
    }

    /// An exact linear relation is recovered exactly.
    @Test func exactLineIsRecovered() throws {
        let x = try Matrix(rows: [[1], [4]])
        let fitted = try LinearRegression().fit(x, [5, 14]).coefficients
        #expect(abs(fitted.weights[0] - 3) < 1e-12)
        #expect(abs(fitted.intercept - 2) < 1e-12)
    }

    /// α = 0 on collinear columns falls back to least squares instead of failing.
    @Test func singularRidgeFallsBack() throws {
        let x = try Matrix(rows: [[1, 2], [2, 4], [3, 6], [4, 8]])
        let fitted = try Ridge(alpha: 0).fit(x, [1, 2, 3, 4])
        #expect(maxAbsoluteDifference(try fitted.predict(x), [1, 2, 3, 4]) < 1e-9)
    }
}

@Suite struct ParameterTests {
    @Test func unknownKeyListsValidKeys() {
        let error = #expect(throws: UsageError.self) {
            try ModelSpec(name: "ridge", task: .regression, assignments: [("nonsense", "1")])
        }
        #expect(error?.message.hasPrefix("unknown parameter \"nonsense\" for ridge (valid: alpha, fit_intercept; pipeline: vectorizer,") == true)
        #expect(error?.message.contains("scaler") == true)
    }

    @Test(arguments: [("ngram_range", "2,1"), ("ngram_range", "1,2,3"), ("min_df", "-1"), ("min_df", "1.5"),
                      ("scaler", "robust"), ("norm", "l3"), ("max_features", "-2")])
    func badPipelineValuesAreUsageErrors(key: String, value: String) {
        #expect(throws: UsageError.self) { try ModelSpec(name: "ridge", task: .regression, assignments: [(key, value)]) }
    }

    @Test func textKeysOnNumericDataAreUsageErrors() async throws {
        let spec = try ModelSpec(name: "ridge", task: .regression, assignments: [("ngram_range", "1,2")])
        await #expect(throws: UsageError.self) { try await spec.fit(try Dataset.load("diabetes")) }
    }

    @Test(arguments: [("alpha", "-1"), ("alpha", "abc"), ("alpha", "nan"), ("fit_intercept", "maybe")])
    func badValuesAreUsageErrors(key: String, value: String) {
        do {
            _ = try ModelSpec(name: "ridge", task: .regression, assignments: [(key, value)])
            Issue.record("accepted \(key)=\(value)")
        } catch {
            #expect(error.message.contains("\(key)=\(value)"))
            #expect(error.message.contains("alpha, fit_intercept"))
        }
    }

    @Test func valuesReachTheEstimator() throws {
        let spec = try ModelSpec(name: "ridge", task: .regression, assignments: [("alpha", "2.5"), ("fit_intercept", "false")])
        let ridge = try Ridge(parameters: spec.parameters)
        #expect(ridge == Ridge(alpha: 2.5, fitIntercept: false))
        #expect(spec.parameters.json.jsonText == "{\"alpha\":2.5,\"fit_intercept\":false}")
    }

    @Test func unknownModelAndWrongTask() {
        #expect(throws: UsageError.self) { try ModelSpec(name: "nope", task: .regression) }
        #expect(throws: UsageError("linreg does regression, not classification")) {
            try ModelSpec(name: "linreg", task: .classification)
        }
    }
}
