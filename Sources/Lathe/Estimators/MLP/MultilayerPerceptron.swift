import Foundation
import Linalg

/// What the two MLP estimators share: the name `mlp` and one set of training settings; they
/// differ only in their output layer and loss.
public protocol MLPEstimator: Estimator {
    var training: MLPTraining { get }
    init(training: MLPTraining)
}

extension MLPEstimator {
    public static var name: String { "mlp" }
    public static var parameterSpecs: [ParameterSpec] { mlpParameterSpecs }

    public init(parameters p: Parameters) throws(UsageError) { self.init(training: try MLPTraining(parameters: p)) }

    public var parameters: Parameters {
        var p = Parameters(defaults: Self.parameterSpecs)
        training.write(to: &p, specs: Self.parameterSpecs)
        return p
    }
}

/// A multilayer perceptron classifier (scikit-learn's `MLPClassifier`): a logistic output unit
/// for two classes, softmax for more, trained on the log loss.
public struct MLPClassifier: Classifier, MLPEstimator, Equatable {
    public var training: MLPTraining

    public init(training: MLPTraining = MLPTraining()) { self.training = training }

    /// Trains on dense or sparse features (a sparse first layer is multiplied as CSR).
    /// - Throws: `FitError` for a single class, NaN, a loss that turns NaN, or too small a
    ///   validation set.
    public func fit(_ x: FeatureMatrix, _ y: [Int], classes: [String]) throws -> FittedMLPClassifier {
        try validateClassifierInputs(x, y, classCount: classes.count)
        let k = classes.count
        // scikit-learn's LabelBinarizer: one 0/1 column for two classes, one-hot for more.
        var targets = Matrix(rowCount: y.count, columnCount: k == 2 ? 1 : k)
        for (i, label) in y.enumerated() {
            if k == 2 { targets[i, 0] = Double(label) } else { targets[i, label] = 1 }
        }
        let trained = try trainNetwork(x, targets: targets, output: k == 2 ? .logistic : .softmax, settings: training)
        return FittedMLPClassifier(estimator: self, classCount: k, network: trained.network, epochs: trained.epochs,
                                   converged: trained.converged, lossCurve: trained.lossCurve)
    }
}

/// A fitted MLP classifier.
public struct FittedMLPClassifier: FittedClassifier, Equatable {
    public let estimator: MLPClassifier
    public let classCount: Int
    public let network: NeuralNetwork
    /// Epochs trained (0 when read from a file).
    public let epochs: Int
    public let converged: Bool?
    /// Mean training loss per epoch (empty when read from a file).
    public let lossCurve: [Double]

    public var featureCount: Int { network.featureCount }

    public func tensors() -> [String: Tensor] { network.tensors() }

    public func probabilities(_ x: FeatureMatrix) throws -> Matrix? {
        let out = try network.outputs(x)
        guard classCount == 2 else { return out }
        var p = Matrix(rowCount: out.rowCount, columnCount: 2)
        for i in 0..<out.rowCount {
            p[i, 0] = 1 - out[i, 0]
            p[i, 1] = out[i, 0]
        }
        return p
    }

    /// Two classes: `p(class 1) − ½` (positive exactly when scikit-learn predicts class 1);
    /// more: the probabilities.
    public func decisionFunction(_ x: FeatureMatrix) throws -> Matrix {
        var out = try network.outputs(x)
        if classCount == 2 {
            out.withUnsafeMutableBufferPointer { v in
                for i in v.indices { v[i] -= 0.5 }
            }
        }
        return out
    }
}

extension FittedMLPClassifier {
    public init(tensors: [String: Tensor], parameters: Parameters, classCount: Int, location: String) throws(InputError) {
        estimator = try MLPClassifier(parameters: parameters, readFrom: location)
        self.classCount = classCount
        network = try NeuralNetwork(tensors: tensors, hidden: estimator.training.hiddenLayerSizes,
                                    outputCount: classCount == 2 ? 1 : classCount, activation: estimator.training.activation,
                                    output: classCount == 2 ? .logistic : .softmax, location: location)
        epochs = 0
        converged = nil
        lossCurve = []
    }
}

/// A multilayer perceptron regressor (scikit-learn's `MLPRegressor`): identity output, half
/// the squared error as loss.
public struct MLPRegressor: Regressor, MLPEstimator, Equatable {
    public var training: MLPTraining

    public init(training: MLPTraining = MLPTraining()) { self.training = training }

    /// Trains on dense or sparse features.
    /// - Throws: `FitError` for NaN, a loss that turns NaN, or too small a validation set.
    public func fit(_ x: FeatureMatrix, _ y: [Double]) throws -> FittedMLPRegressor {
        try validateFitInputs(x, y)
        let trained = try trainNetwork(x, targets: try Matrix(rowCount: y.count, columnCount: 1, elements: y), output: .identity,
                                       settings: training)
        return FittedMLPRegressor(estimator: self, network: trained.network, epochs: trained.epochs,
                                  converged: trained.converged, lossCurve: trained.lossCurve)
    }
}

/// A fitted MLP regressor.
public struct FittedMLPRegressor: FittedRegressor, Equatable {
    public let estimator: MLPRegressor
    public let network: NeuralNetwork
    public let epochs: Int
    public let converged: Bool?
    public let lossCurve: [Double]

    public var featureCount: Int { network.featureCount }

    public func tensors() -> [String: Tensor] { network.tensors() }

    public func predict(_ x: FeatureMatrix) throws -> [Double] { try network.outputs(x).elements }
}

extension FittedMLPRegressor {
    public init(tensors: [String: Tensor], parameters: Parameters, location: String) throws(InputError) {
        estimator = try MLPRegressor(parameters: parameters, readFrom: location)
        network = try NeuralNetwork(tensors: tensors, hidden: estimator.training.hiddenLayerSizes, outputCount: 1,
                                    activation: estimator.training.activation, output: .identity, location: location)
        epochs = 0
        converged = nil
        lossCurve = []
    }
}
