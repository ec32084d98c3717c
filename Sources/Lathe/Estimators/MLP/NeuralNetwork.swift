import Foundation
import Linalg

/// A hidden layer's activation function (scikit-learn's `activation`).
public enum Activation: String, Sendable, CaseIterable {
    case identity, logistic, tanh, relu

    /// Applies the function in place.
    func apply(_ v: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case .identity: break
        case .logistic: for i in v.indices { v[i] = expit(v[i]) }
        case .tanh: for i in v.indices { v[i] = Foundation.tanh(v[i]) }
        case .relu: for i in v.indices { v[i] = max(v[i], 0) }
        }
    }

    /// Multiplies `delta` by the derivative, written in terms of the layer's output `a` as
    /// scikit-learn's `inplace_*_derivative` do.
    func backpropagate(_ delta: UnsafeMutableBufferPointer<Double>, through a: UnsafeBufferPointer<Double>) {
        switch self {
        case .identity: break
        case .logistic:
            for i in delta.indices {
                delta[i] *= a[i]
                delta[i] *= 1 - a[i]
            }
        case .tanh: for i in delta.indices { delta[i] *= 1 - a[i] * a[i] }
        case .relu:
            // Four lanes at a time with a blend: about half the units are off, at random, so a
            // branch per element mispredicts (it took 14% of a digits fit).
            let d = UnsafeMutableRawPointer(delta.baseAddress), x = UnsafeRawPointer(a.baseAddress)
            var i = 0
            while i &+ 4 <= delta.count {
                var lanes = d!.loadUnaligned(fromByteOffset: i &* 8, as: SIMD4<Double>.self)
                lanes.replace(with: 0, where: x!.loadUnaligned(fromByteOffset: i &* 8, as: SIMD4<Double>.self) .== 0)
                d!.storeBytes(of: lanes, toByteOffset: i &* 8, as: SIMD4<Double>.self)
                i &+= 4
            }
            while i < delta.count {
                if a[i] == 0 { delta[i] = 0 }
                i &+= 1
            }
        }
    }
}

/// The output layer's function, fixed by the task as in scikit-learn: identity for regression,
/// logistic (one unit) for two classes, softmax for more.
public enum OutputActivation: String, Sendable {
    case identity, logistic, softmax

    /// Applies the function to each row of `m`, in place.
    func apply(_ m: inout Matrix) {
        let width = m.columnCount
        m.withUnsafeMutableBufferPointer { v in
            switch self {
            case .identity: break
            case .logistic: for i in v.indices { v[i] = expit(v[i]) }
            case .softmax:
                for row in stride(from: 0, to: v.count, by: width) {
                    var largest = -Double.infinity
                    for c in row..<(row + width) { largest = max(largest, v[c]) }
                    var total = 0.0
                    for c in row..<(row + width) {
                        v[c] = exp(v[c] - largest)
                        total += v[c]
                    }
                    for c in row..<(row + width) { v[c] /= total }
                }
            }
        }
    }
}

/// SciPy's `expit`, `1 / (1 + e⁻ˣ)`, written as it is so that networks agree with
/// scikit-learn's to the last bits.
@inline(__always) func expit(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

/// The weights of a multilayer perceptron: layer `l` maps `fanIn` units to `fanOut` with
/// `weights[l]` (`fanIn × fanOut`, scikit-learn's `coefs_[l]`) and `biases[l]` (`fanOut`).
/// Stored in model files as `layers.l.weight` and `layers.l.bias`.
public struct NeuralNetwork: Sendable, Equatable {
    public internal(set) var weights: [Matrix]
    public internal(set) var biases: [[Double]]
    public let activation: Activation
    public let output: OutputActivation

    init(weights: [Matrix], biases: [[Double]], activation: Activation, output: OutputActivation) {
        self.weights = weights
        self.biases = biases
        self.activation = activation
        self.output = output
    }

    /// Glorot-uniform weights and biases drawn as scikit-learn's `_init_coef` draws them from
    /// NumPy's `RandomState`: layer by layer, the weights row by row, then the biases, each
    /// uniform in ±√(6 / (fanIn + fanOut)) (√2 for the logistic activation).
    init(units: [Int], activation: Activation, output: OutputActivation, random: inout MersenneTwister) {
        var weights: [Matrix] = [], biases: [[Double]] = []
        for l in 0..<(units.count - 1) {
            let fanIn = units[l], fanOut = units[l + 1]
            let bound = ((activation == .logistic ? 2.0 : 6.0) / Double(fanIn + fanOut)).squareRoot()
            let draw = { (random: inout MersenneTwister) -> Double in -bound + 2 * bound * random.nextDouble() }
            var w = Matrix(rowCount: fanIn, columnCount: fanOut)
            w.withUnsafeMutableBufferPointer { v in
                for i in v.indices { v[i] = draw(&random) }
            }
            weights.append(w)
            biases.append((0..<fanOut).map { _ in draw(&random) })
        }
        self.init(weights: weights, biases: biases, activation: activation, output: output)
    }

    public var featureCount: Int { weights[0].rowCount }
    public var outputCount: Int { weights[weights.count - 1].columnCount }
    /// Units per layer, inputs first.
    public var units: [Int] { [featureCount] + weights.map(\.columnCount) }

    /// The forward pass: `layers[l]` receives layer `l`'s outputs for the rows of `x` (the
    /// buffers are reused, each `rows × fanOut`).
    func forward(_ x: FeatureMatrix, into layers: inout [Matrix]) throws(LinalgError) {
        for l in weights.indices {
            if l == 0 {
                try x.multiply(weights[0], into: &layers[0])
            } else {
                let input = layers[l - 1]
                try Matrix.gemm(input, weights[l], into: &layers[l])
            }
            let bias = biases[l], width = bias.count
            layers[l].withUnsafeMutableBufferPointer { v in
                bias.withUnsafeBufferPointer { b in
                    for row in stride(from: 0, to: v.count, by: width) {
                        for c in 0..<width { v[row + c] += b[c] }
                    }
                }
                if l < weights.count - 1 { activation.apply(v) }
            }
            if l == weights.count - 1 { output.apply(&layers[l]) }
        }
    }

    /// The output layer's values for every row of `x`: probabilities (one column for two
    /// classes) or predictions.
    /// - Throws: `FitError` for a feature count other than the network's, or NaN features.
    public func outputs(_ x: FeatureMatrix) throws -> Matrix {
        try validatePredictInputs(x, featureCount: featureCount)
        var layers = weights.map { Matrix(rowCount: x.rowCount, columnCount: $0.columnCount) }
        try BLAS.withSerialCalls { () throws -> Void in try forward(x, into: &layers) }
        return layers[layers.count - 1]
    }

    func tensors() -> [String: Tensor] {
        var tensors: [String: Tensor] = [:]
        for l in weights.indices {
            tensors["layers.\(l).weight"] = Tensor(weights[l].elements, shape: weights[l].shape)
            tensors["layers.\(l).bias"] = Tensor(biases[l], shape: [biases[l].count])
        }
        return tensors
    }

    /// Reads `layers.0.weight`, `layers.0.bias`, … back, checking that the layers chain, that
    /// the hidden sizes are `hidden` and the output width `outputCount`, and that every number
    /// is finite.
    init(tensors: [String: Tensor], hidden: [Int], outputCount: Int, activation: Activation, output: OutputActivation,
         location: String) throws(InputError) {
        let layerCount = hidden.count + 1
        let extra = tensors.keys.filter { $0.hasPrefix("layers.") }.count - 2 * layerCount
        guard extra == 0 else {
            throw InputError("the model file's layers.* tensors do not match the \(hidden.count) hidden layers of hidden_layer_sizes", at: location)
        }
        var weights: [Matrix] = [], biases: [[Double]] = []
        var fanIn: Int?
        for l in 0..<layerCount {
            let fanOut = l < hidden.count ? hidden[l] : outputCount
            guard let w = tensors["layers.\(l).weight"], let wv = w.doubles, w.shape.count == 2, w.shape[0] >= 1,
                  w.shape[1] == fanOut, fanIn.map({ $0 == w.shape[0] }) ?? true else {
                throw InputError("tensor layers.\(l).weight is missing or is not F64 of shape [\(fanIn.map(String.init) ?? "inputs"), \(fanOut)]",
                                 at: location)
            }
            guard let b = tensors["layers.\(l).bias"], let bv = b.doubles, b.shape == [fanOut] else {
                throw InputError("tensor layers.\(l).bias is missing or is not F64 of shape [\(fanOut)]", at: location)
            }
            guard wv.allSatisfy(\.isFinite), bv.allSatisfy(\.isFinite) else {
                throw InputError("layer \(l) holds NaN or infinity", at: location)
            }
            weights.append(try! Matrix(rowCount: w.shape[0], columnCount: fanOut, elements: wv))
            biases.append(bv)
            fanIn = fanOut
        }
        self.init(weights: weights, biases: biases, activation: activation, output: output)
    }
}
