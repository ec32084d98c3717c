import Foundation
import Linalg

/// The hyper-parameters both MLP estimators share, with scikit-learn's names and defaults
/// (`random_state` defaults to 0 so fits repeat).
let mlpParameterSpecs: [ParameterSpec] = [
    ParameterSpec("hidden_layer_sizes", .ints(minimum: 1), default: .ints([100]), "units per hidden layer, comma-separated"),
    ParameterSpec("activation", .choice(Activation.allCases.map(\.rawValue)), default: .string("relu"), "hidden-layer activation"),
    ParameterSpec("solver", .choice(["adam", "sgd"]), default: .string("adam"), "the stochastic optimizer"),
    ParameterSpec("alpha", .double(minimum: 0, exclusive: false), default: .double(1e-4), "L2 penalty on the weights"),
    ParameterSpec("batch_size", .autoOrInt(minimum: 1), default: .string("auto"), "samples per minibatch (auto: min(200, rows))"),
    ParameterSpec("learning_rate", .choice(["constant", "invscaling", "adaptive"]), default: .string("constant"),
                  "sgd's step-size schedule"),
    ParameterSpec("learning_rate_init", .double(minimum: 0, exclusive: true), default: .double(1e-3), "the initial step size"),
    ParameterSpec("power_t", .double(minimum: 0, exclusive: false), default: .double(0.5), "exponent of sgd's invscaling schedule"),
    ParameterSpec("max_iter", .int(minimum: 1), default: .int(200), "epochs at most"),
    ParameterSpec("shuffle", .bool, default: .bool(true), "shuffle the samples every epoch"),
    ParameterSpec("random_state", .int(minimum: 0), default: .int(0), "seed of the initial weights, shuffling and validation split"),
    ParameterSpec("tol", .double(minimum: 0, exclusive: false), default: .double(1e-4), "the improvement that counts"),
    ParameterSpec("momentum", .double(minimum: 0, exclusive: false), default: .double(0.9), "sgd's momentum, in [0, 1]"),
    ParameterSpec("nesterovs_momentum", .bool, default: .bool(true), "sgd with Nesterov's momentum"),
    ParameterSpec("early_stopping", .bool, default: .bool(false), "stop on a held-out validation score"),
    ParameterSpec("validation_fraction", .double(minimum: 0, exclusive: true), default: .double(0.1),
                  "held-out share for early stopping, in (0, 1)"),
    ParameterSpec("beta_1", .double(minimum: 0, exclusive: false), default: .double(0.9), "adam's first-moment decay, in [0, 1)"),
    ParameterSpec("beta_2", .double(minimum: 0, exclusive: false), default: .double(0.999), "adam's second-moment decay, in [0, 1)"),
    ParameterSpec("epsilon", .double(minimum: 0, exclusive: true), default: .double(1e-8), "adam's numerical floor"),
    ParameterSpec("n_iter_no_change", .int(minimum: 1), default: .int(10), "epochs without improvement before stopping"),
]

/// How an MLP is trained: scikit-learn's stochastic solvers and their settings.
public struct MLPTraining: Sendable, Equatable {
    public enum Solver: String, Sendable { case adam, sgd }
    public enum Schedule: String, Sendable { case constant, invscaling, adaptive }

    public var hiddenLayerSizes: [Int] = [100]
    public var activation: Activation = .relu
    public var solver: Solver = .adam
    /// L2 penalty, `alpha/2 · ‖W‖² / batch` added to each batch's mean loss.
    public var alpha = 1e-4
    /// nil: `min(200, rows)`.
    public var batchSize: Int?
    public var learningRate: Schedule = .constant
    public var learningRateInit = 1e-3
    public var powerT = 0.5
    /// Epochs at most.
    public var maxIterations = 200
    public var shuffle = true
    public var randomState = 0
    public var tolerance = 1e-4
    public var momentum = 0.9
    public var nesterovsMomentum = true
    public var earlyStopping = false
    public var validationFraction = 0.1
    public var beta1 = 0.9
    public var beta2 = 0.999
    public var epsilon = 1e-8
    public var iterationsWithoutChange = 10

    public init() {}

    /// Reads the settings and checks the ranges a parameter kind cannot state.
    /// - Throws: `UsageError` for momentum above 1, a validation fraction of 1 or more, or a
    ///   beta of 1 or more.
    init(parameters p: Parameters) throws(UsageError) {
        hiddenLayerSizes = p.ints("hidden_layer_sizes")
        activation = Activation(rawValue: p.string("activation"))!
        solver = Solver(rawValue: p.string("solver"))!
        alpha = p.double("alpha")
        batchSize = p.autoOrInt("batch_size")
        learningRate = Schedule(rawValue: p.string("learning_rate"))!
        learningRateInit = p.double("learning_rate_init")
        powerT = p.double("power_t")
        maxIterations = p.int("max_iter")
        shuffle = p.bool("shuffle")
        randomState = p.int("random_state")
        tolerance = p.double("tol")
        momentum = p.double("momentum")
        nesterovsMomentum = p.bool("nesterovs_momentum")
        earlyStopping = p.bool("early_stopping")
        validationFraction = p.double("validation_fraction")
        beta1 = p.double("beta_1")
        beta2 = p.double("beta_2")
        epsilon = p.double("epsilon")
        iterationsWithoutChange = p.int("n_iter_no_change")
        guard momentum <= 1 else { throw UsageError("momentum=\(momentum): expected a number in [0, 1]") }
        guard validationFraction < 1 else { throw UsageError("validation_fraction=\(validationFraction): expected a number in (0, 1)") }
        guard beta1 < 1, beta2 < 1 else { throw UsageError("beta_1 and beta_2 must be in [0, 1)") }
    }

    func write(to p: inout Parameters, specs: [ParameterSpec]) {
        let values: [(String, ParameterValue)] = [
            ("hidden_layer_sizes", .ints(hiddenLayerSizes)), ("activation", .string(activation.rawValue)),
            ("solver", .string(solver.rawValue)), ("alpha", .double(alpha)), ("batch_size", batchSize.map { .int($0) } ?? .string("auto")),
            ("learning_rate", .string(learningRate.rawValue)), ("learning_rate_init", .double(learningRateInit)),
            ("power_t", .double(powerT)), ("max_iter", .int(maxIterations)), ("shuffle", .bool(shuffle)),
            ("random_state", .int(randomState)), ("tol", .double(tolerance)), ("momentum", .double(momentum)),
            ("nesterovs_momentum", .bool(nesterovsMomentum)), ("early_stopping", .bool(earlyStopping)),
            ("validation_fraction", .double(validationFraction)), ("beta_1", .double(beta1)), ("beta_2", .double(beta2)),
            ("epsilon", .double(epsilon)), ("n_iter_no_change", .int(iterationsWithoutChange)),
        ]
        for (name, value) in values { try! p.set(name, value, specs: specs) }
    }
}

/// What a training run produced.
struct TrainedNetwork {
    var network: NeuralNetwork
    /// Epochs run.
    var epochs: Int
    /// False when the epoch limit ended training before the loss (or validation score)
    /// stopped improving.
    var converged: Bool
    /// The mean training loss of each epoch.
    var lossCurve: [Double]
}

/// scikit-learn's `_fit_stochastic`: minibatch epochs of backpropagation with Adam or SGD,
/// stopping after `n_iter_no_change` epochs without a `tol` improvement of the training loss
/// (or of the validation score, with early stopping). The initial weights, the shuffles and
/// the validation split draw from one NumPy-compatible random stream in scikit-learn's order.
///
/// - Parameters:
///   - x: the features.
///   - targets: `rows × outputs`: 0/1 indicators for classes, values for regression.
///   - output: the output layer's function (which fixes the loss: log loss or squared error).
/// - Throws: `FitError` when the loss turns NaN or infinite (too large a learning rate, or
///   unscaled features) or the validation split leaves fewer than 2 rows.
func trainNetwork(_ x: FeatureMatrix, targets: Matrix, output: OutputActivation, settings: MLPTraining) throws -> TrainedNetwork {
    let units = [x.columnCount] + settings.hiddenLayerSizes + [targets.columnCount]
    // Weights and biases, their gradients, Adam's two moments and the best weights kept for
    // early stopping.
    try checkParameterMemory(zip(units, units.dropFirst()).flatMap { [[$0, $1], [$1]] }, copies: 5, what: "the MLP")
    var random = MersenneTwister(seed: UInt32(truncatingIfNeeded: settings.randomState))
    var network = NeuralNetwork(units: units, activation: settings.activation, output: output, random: &random)
    var x = x, targets = targets
    var validation: (x: FeatureMatrix, targets: Matrix)?
    if settings.earlyStopping {
        // `train_test_split` as ShuffleSplit draws it: one permutation, the test rows first.
        let n = x.rowCount
        let testCount = Int((settings.validationFraction * Double(n)).rounded(.up))
        guard testCount >= 2, testCount < n else {
            throw FitError.unsupportedInput("the validation set for early stopping would have \(testCount) of \(n) rows "
                                            + "(raise validation_fraction or add data)")
        }
        let permutation = random.permutation(n)
        let test = Array(permutation[..<testCount]), train = Array(permutation[testCount...])
        validation = (x.rows(test), targets.rows(test))
        x = x.rows(train)
        targets = targets.rows(train)
    }
    let n = x.rowCount
    let batchSize = settings.batchSize.map { min(max($0, 1), n) } ?? min(200, n)
    // Small products run faster on one thread than OpenBLAS's hand-off costs.
    let flopsPerBatch = batchSize * zip(network.units, network.units.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 }
    let serial = flopsPerBatch < 50_000_000
    var pass = Backpropagation(network: network)
    let sparseInput = if case .sparse = x { true } else { false }
    var step = GradientStep(settings: settings, network: network, sparseInput: sparseInput)
    var order = Array(0..<n)
    var lossCurve: [Double] = []
    var bestLoss = Double.infinity, bestScore = -Double.infinity
    var bestNetwork: NeuralNetwork?
    var withoutImprovement = 0, stopped = false
    let body = { () throws in
        for epoch in 1...settings.maxIterations {
            if settings.shuffle {
                // `sklearn.utils.shuffle(sample_idx)`: a fresh shuffle of 0..<n indexes the old order.
                var shuffled = Array(0..<n)
                random.shuffle(&shuffled)
                order = shuffled.map { order[$0] }
            }
            var batches: [(dataLoss: Double, rows: Int)] = []
            for start in stride(from: 0, to: n, by: batchSize) {
                let rows = Array(order[start..<min(start + batchSize, n)])
                let batch = x.rows(rows)
                // Sparse input: the gradient of the first layer only on the batch's features.
                var compact: (matrix: SparseMatrix, columns: [Int32])?
                if case let .sparse(s) = batch {
                    let columns = s.compactingColumns()
                    step.catchUp(columns.columns, &network)
                    compact = columns
                }
                let dataLoss = try pass.run(network, batch, targets.rows(rows), compactInput: compact?.matrix)
                step.apply(pass, to: &network, rows: rows.count, firstLayerRows: compact?.columns)
                batches.append((dataLoss, rows.count))
            }
            var accumulated = 0.0
            for (batch, squares) in zip(batches, step.finishEpoch(&network)) {
                let rows = Double(batch.rows)
                accumulated += (batch.dataLoss + 0.5 * settings.alpha * squares / rows) * rows
            }
            let loss = accumulated / Double(n)
            guard loss.isFinite else {
                throw FitError.unsupportedInput("the training loss became \(loss) in epoch \(epoch): lower learning_rate_init "
                                                + "(now \(settings.learningRateInit)) or scale the features")
            }
            lossCurve.append(loss)
            if let validation {
                let score = try validationScore(network, validation.x, validation.targets)
                withoutImprovement = score < bestScore + settings.tolerance ? withoutImprovement + 1 : 0
                if score > bestScore {
                    bestScore = score
                    bestNetwork = network
                }
            } else {
                withoutImprovement = loss > bestLoss - settings.tolerance ? withoutImprovement + 1 : 0
                bestLoss = min(bestLoss, loss)
            }
            step.epochEnded(samplesSeen: epoch * n)
            if withoutImprovement > settings.iterationsWithoutChange {
                if step.shouldStop() {
                    stopped = true
                    break
                }
                withoutImprovement = 0
            }
        }
    }
    if serial { try BLAS.withSerialCalls(body) } else { try body() }
    if let bestNetwork { network = bestNetwork }
    guard network.weights.allSatisfy(\.isFinite), network.biases.allSatisfy({ $0.allSatisfy(\.isFinite) }) else {
        throw FitError.nonFiniteModel
    }
    return TrainedNetwork(network: network, epochs: lossCurve.count, converged: stopped, lossCurve: lossCurve)
}

/// Accuracy (classification) or r² (regression) on held-out rows, as scikit-learn's `_score`.
private func validationScore(_ network: NeuralNetwork, _ x: FeatureMatrix, _ targets: Matrix) throws -> Double {
    let predicted = try network.outputs(x)
    func classes(_ m: Matrix) -> [Int] {
        (0..<m.rowCount).map { i in
            if m.columnCount == 1 { return m[i, 0] > 0.5 ? 1 : 0 }
            var best = 0
            for c in 1..<m.columnCount where m[i, c] > m[i, best] { best = c }
            return best
        }
    }
    if network.output == .identity {
        return RegressionMetrics.r2(predicted: predicted.elements, expected: targets.elements)
    }
    return ClassificationMetrics.accuracy(expected: classes(targets), predicted: classes(predicted))
}

/// One minibatch's forward and backward pass (scikit-learn's `_backprop`), into buffers kept
/// from batch to batch. The weight gradients are left as `Aᵀ·δ`: `GradientStep` adds the
/// penalty and divides by the batch size in the same pass that moves the weights. With sparse
/// input the first layer's gradient holds only the rows of the batch's features.
struct Backpropagation {
    /// Layer outputs and the loss's gradients with respect to each layer's pre-activation,
    /// `rows × fanOut`; reallocated only when the batch size changes.
    private var layers: [Matrix] = []
    private var deltas: [Matrix] = []
    private(set) var weightGradients: [Matrix]
    private(set) var biasGradients: [[Double]]

    init(network: NeuralNetwork) {
        weightGradients = network.weights.map { Matrix(rowCount: $0.rowCount, columnCount: $0.columnCount) }
        biasGradients = network.biases.map { [Double](repeating: 0, count: $0.count) }
    }

    /// The batch's loss before the penalty (mean log loss or half mean squared error); leaves
    /// `Aᵀ·δ` per layer in `weightGradients` and the bias gradients in `biasGradients`.
    /// - Parameter compactInput: `x` restricted to its stored columns
    ///   (`SparseMatrix.compactingColumns`): the first gradient then has one row per column.
    mutating func run(_ network: NeuralNetwork, _ x: FeatureMatrix, _ y: Matrix, compactInput: SparseMatrix? = nil) throws -> Double {
        let rows = x.rowCount, last = network.weights.count - 1
        if layers.first?.rowCount != rows {
            layers = network.weights.map { Matrix(rowCount: rows, columnCount: $0.columnCount) }
            deltas = layers
        }
        try network.forward(x, into: &layers)
        let loss = Self.loss(layers[last], y, network.output)
        // The output layer's delta: prediction − target, for each loss with its matching output.
        deltas[last].withUnsafeMutableBufferPointer { d in
            layers[last].withUnsafeBufferPointer { a in
                y.withUnsafeBufferPointer { t in
                    for e in d.indices { d[e] = a[e] - t[e] }
                }
            }
        }
        let n = Double(rows)
        for l in stride(from: last, through: 0, by: -1) {
            if l == 0, let compactInput {
                if weightGradients[0].rowCount != compactInput.columnCount {
                    weightGradients[0] = Matrix(rowCount: compactInput.columnCount, columnCount: deltas[0].columnCount)
                }
                try compactInput.transposeMultiply(deltas[0], into: &weightGradients[0])
            } else if l == 0 {
                try x.transposeMultiply(deltas[0], into: &weightGradients[0])
            } else {
                try Matrix.gemm(layers[l - 1], deltas[l], transposeA: true, into: &weightGradients[l])
            }
            let width = biasGradients[l].count
            deltas[l].withUnsafeBufferPointer { d in
                biasGradients[l].withUnsafeMutableBufferPointer { b in
                    for c in 0..<width { b[c] = 0 }
                    for row in stride(from: 0, to: d.count, by: width) {
                        for c in 0..<width { b[c] += d[row + c] }
                    }
                    for c in 0..<width { b[c] /= n }
                }
            }
            if l > 0 {
                let delta = deltas[l]
                try Matrix.gemm(delta, network.weights[l], transposeB: true, into: &deltas[l - 1])
                let activation = network.activation
                layers[l - 1].withUnsafeBufferPointer { a in
                    deltas[l - 1].withUnsafeMutableBufferPointer { d in activation.backpropagate(d, through: a) }
                }
            }
        }
        return loss
    }

    /// scikit-learn's `binary_log_loss`, `log_loss` (probabilities clipped to [ε, 1 − ε]) and
    /// `squared_loss` (half the mean squared error).
    private static func loss(_ predicted: Matrix, _ y: Matrix, _ output: OutputActivation) -> Double {
        let rows = Double(predicted.rowCount), width = predicted.columnCount
        let eps = Double.ulpOfOne
        return predicted.withUnsafeBufferPointer { p in
            y.withUnsafeBufferPointer { t in
                var total = 0.0
                for c in 0..<width {
                    var column = 0.0
                    for e in stride(from: c, to: p.count, by: width) {
                        switch output {
                        case .identity:
                            column += (t[e] - p[e]) * (t[e] - p[e])
                        case .logistic:
                            let q = min(max(p[e], eps), 1 - eps)
                            column += xlogy(t[e], q) + xlogy(1 - t[e], 1 - q)
                        case .softmax:
                            column += xlogy(t[e], min(max(p[e], eps), 1 - eps))
                        }
                    }
                    total += column / rows
                }
                return output == .identity ? 0.5 * total / Double(width) : -total
            }
        }
    }
}

/// `x·log(y)`, 0 when `x` is 0 (SciPy's `xlogy`).
@inline(__always) private func xlogy(_ x: Double, _ y: Double) -> Double { x == 0 ? 0 : x * log(y) }
