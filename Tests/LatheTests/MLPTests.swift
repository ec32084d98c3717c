import Foundation
@testable import Lathe
import Linalg
import TestSupport
import Testing

/// Standardized features (Lathe's scaler) and numeric targets of a bundled regression dataset.
func standardizedRegressionData(_ name: String) async throws -> (FeatureMatrix, [Double]) {
    let dataset = try Dataset.load(name)
    let (_, x) = try await PipelineSpec(assignments: [("scaler", "standard")]).fitTransform(dataset.features)
    return (x, try dataset.regressionTargets())
}

@Suite struct MLPParityTests {
    struct Short: Decodable {
        var dataset: String
        var task: String
        var params: [String: String]
        var coefs: [[[Double]]]
        var intercepts: [[Double]]
        var loss_curve: [Double]
        var n_iter: Int
    }
    struct File: Decodable {
        var short: [Short]
        var cv_accuracy: [String: Double]
        var diabetes_r2: Double
    }

    /// A few epochs of small networks down every path (adam and sgd, Nesterov or plain
    /// momentum, constant and invscaling steps, each activation, binary, multiclass and
    /// regression outputs, with and without shuffling, early stopping's validation split):
    /// the same weights and losses as scikit-learn's, because the initial draws, shuffles,
    /// batches and steps are the same. Only summation order differs: 1e-12 relative (measured: 1e-14).
    @Test func shortRunsMatchScikitLearnStepForStep() async throws {
        let file = try loadFixture("mlp.json", as: File.self)
        #expect(file.short.count == 6)
        for case_ in file.short {
            let assignments = case_.params.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
            let network: NeuralNetwork, losses: [Double], epochs: Int
            if case_.task == "classification" {
                let (x, y, classes) = try await classificationData(case_.dataset, standardize: true)
                let model = try MLPClassifier(parameters: try Parameters(specs: MLPClassifier.parameterSpecs,
                                                                         assignments: assignments, estimator: "mlp"))
                    .fit(x, y, classes: classes)
                (network, losses, epochs) = (model.network, model.lossCurve, model.epochs)
            } else {
                let (x, y) = try await standardizedRegressionData(case_.dataset)
                let model = try MLPRegressor(parameters: try Parameters(specs: MLPRegressor.parameterSpecs,
                                                                        assignments: assignments, estimator: "mlp"))
                    .fit(x, y)
                (network, losses, epochs) = (model.network, model.lossCurve, model.epochs)
            }
            let label = "\(case_.dataset) \(case_.params)"
            #expect(epochs == case_.n_iter, "\(label)")
            #expect(network.weights.count == case_.coefs.count, "\(label)")
            guard network.weights.count == case_.coefs.count else { continue }
            for l in network.weights.indices {
                #expect(network.weights[l].shape == [case_.coefs[l].count, case_.coefs[l][0].count], "\(label) layer \(l)")
                #expect(maxRelativeDifference(network.weights[l].elements, case_.coefs[l].flatMap { $0 }, floor: 1e-3) < 1e-12,
                        "\(label) layer \(l)")
                #expect(maxRelativeDifference(network.biases[l], case_.intercepts[l], floor: 1e-3) < 1e-12, "\(label) layer \(l)")
            }
            #expect(maxRelativeDifference(losses, case_.loss_curve) < 1e-12, "\(label)")
        }
    }

    /// The issue's bar: `MLPClassifier(random_state=0, max_iter=500)` on standardized digits and
    /// breast_cancer, 5-fold stratified CV (seed 0), within 1 pp of scikit-learn's accuracy.
    @Test(arguments: ["digits", "breast_cancer"])
    func crossValidatedAccuracyMatchesScikitLearn(_ name: String) async throws {
        let expected = try #require(try loadFixture("mlp.json", as: File.self).cv_accuracy[name])
        let spec = try ModelSpec(name: "mlp", task: .classification, assignments: [("scaler", "standard"), ("max_iter", "500")])
        let report = try await CrossValidation.run(spec, on: try Dataset.load(name),
                                                   splitter: StratifiedKFold(foldCount: 5, shuffle: true, seed: 0))
        #expect(abs(report.mean("accuracy") - expected) < 0.01, "\(name): \(report.mean("accuracy")) vs \(expected)")
    }

    /// `MLPRegressor(random_state=0, max_iter=500)` on standardized diabetes, 5-fold CV r² within 0.05.
    @Test func regressionMatchesScikitLearn() async throws {
        let expected = try loadFixture("mlp.json", as: File.self).diabetes_r2
        let spec = try ModelSpec(name: "mlp", task: .regression, assignments: [("scaler", "standard"), ("max_iter", "500")])
        let report = try await CrossValidation.run(spec, on: try Dataset.load("diabetes"),
                                                   splitter: KFold(foldCount: 5, shuffle: true, seed: 0))
        #expect(abs(report.mean("r2") - expected) < 0.05, "\(report.mean("r2")) vs \(expected)")
    }
}

@Suite struct MLPBehaviourTests {
    /// CSR input trains the same network as the same numbers dense (the first layer's products
    /// are the only difference, and they sum the same terms).
    /// Sparse input defers the first-layer steps of features a batch lacks and replays them
    /// later: the same network as the dense path, for both solvers. Most entries are zeroed
    /// and the batches are small, so a feature is missing from about half of the batches.
    @Test(arguments: [MLPTraining.Solver.adam, .sgd])
    func sparseInputTrainsTheDenseNetwork(solver: MLPTraining.Solver) async throws {
        let (x, y, classes) = try await classificationData("breast_cancer", standardize: true)
        guard case let .dense(m) = x else { Issue.record("expected dense features"); return }
        var zeroed = m
        zeroed.withUnsafeMutableBufferPointer { v in
            for i in v.indices where abs(v[i]) < 2 { v[i] = 0 }
        }
        var training = MLPTraining()
        training.solver = solver
        training.hiddenLayerSizes = [10]
        training.batchSize = 16
        training.maxIterations = 5
        let dense = try MLPClassifier(training: training).fit(.dense(zeroed), y, classes: classes)
        let sparse = try MLPClassifier(training: training).fit(.sparse(SparseMatrix(zeroed)), y, classes: classes)
        for l in 0..<2 {
            #expect(maxRelativeDifference(sparse.network.weights[l].elements, dense.network.weights[l].elements, floor: 1e-3) < 1e-10)
            #expect(maxRelativeDifference(sparse.network.biases[l], dense.network.biases[l], floor: 1e-3) < 1e-10)
        }
        #expect(maxRelativeDifference(sparse.lossCurve, dense.lossCurve, floor: 1e-3) < 1e-10)
        #expect(try sparse.predictClasses(.sparse(SparseMatrix(zeroed))) == dense.predictClasses(.dense(zeroed)))
    }

    /// Weights round-trip through tensors; hostile tensors (wrong shapes, extra layers, NaN)
    /// are rejected with an error, not a crash.
    @Test func tensorsRoundTripAndHostileLayersAreRejected() async throws {
        let (x, y, classes) = try await classificationData("iris", standardize: true)
        var training = MLPTraining()
        training.hiddenLayerSizes = [6, 4]
        training.maxIterations = 20
        let model = try MLPClassifier(training: training).fit(x, y, classes: classes)
        #expect(model.converged == false)
        let tensors = model.tensors()
        #expect(Set(tensors.keys) == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                                      "layers.2.weight", "layers.2.bias"])
        let reloaded = try FittedMLPClassifier(tensors: tensors, parameters: model.estimator.parameters, classCount: 3, location: "m")
        #expect(reloaded.network == model.network)
        #expect(try reloaded.probabilities(x) == model.probabilities(x))

        var wrongShape = tensors
        wrongShape["layers.1.weight"] = Tensor([Double](repeating: 0, count: 12), shape: [3, 4])
        var extra = tensors
        extra["layers.3.weight"] = Tensor([1.0], shape: [1, 1])
        var notFinite = tensors
        notFinite["layers.2.bias"] = Tensor([0, .nan, 0], shape: [3])
        var missing = tensors
        missing["layers.0.bias"] = nil
        for hostile in [wrongShape, extra, notFinite, missing] {
            #expect(throws: InputError.self) {
                try FittedMLPClassifier(tensors: hostile, parameters: model.estimator.parameters, classCount: 3, location: "m")
            }
        }
    }

    /// An exploding learning rate turns the loss infinite or NaN: a clear error naming the
    /// epoch and the setting, not a model of NaNs.
    @Test func explodingLearningRateIsAnError() async throws {
        let (x, y) = try await standardizedRegressionData("diabetes")
        var training = MLPTraining()
        training.solver = .sgd
        training.learningRateInit = 10
        training.maxIterations = 50
        do {
            _ = try MLPRegressor(training: training).fit(x, y)
            Issue.record("expected an error")
        } catch let error as FitError {
            #expect(error.description.contains("learning_rate_init"), "\(error)")
        }
    }

    /// Bad settings are usage errors; NaN features and tiny validation sets are fit errors.
    @Test func badSettingsAndDataAreErrors() async throws {
        for (key, value) in [("hidden_layer_sizes", "0"), ("hidden_layer_sizes", "10,,5"), ("momentum", "1.5"),
                             ("validation_fraction", "1"), ("beta_1", "1"), ("batch_size", "0"), ("activation", "softmax"),
                             ("solver", "lbfgs"), ("learning_rate_init", "0")] {
            #expect(throws: UsageError.self, "\(key)=\(value)") {
                try MLPClassifier(parameters: try Parameters(specs: MLPClassifier.parameterSpecs, assignments: [(key, value)],
                                                             estimator: "mlp"))
            }
        }
        let x = try Matrix(rows: [[0, 1], [1, .nan], [2, 0], [3, 1]])
        #expect(throws: FitError.self) { try MLPClassifier().fit(.dense(x), [0, 1, 0, 1], classCount: 2) }
        var training = MLPTraining()
        training.earlyStopping = true
        let small = try Matrix(rows: [[0, 1], [1, 0], [2, 0], [3, 1], [4, 4]])
        #expect(throws: FitError.self) { try MLPRegressor(training: training).fit(.dense(small), [0, 1, 2, 3, 4]) }
    }
}
