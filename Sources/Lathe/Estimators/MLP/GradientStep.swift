import CKernels
import Foundation
import Linalg

/// The optimizer's state: Adam's moment estimates or SGD's velocities, one buffer per weight
/// matrix and bias vector (scikit-learn's `AdamOptimizer`, `SGDOptimizer`).
///
/// With sparse input, the first layer's rows of features that a minibatch lacks have no data
/// gradient: their step reads only their own weights and state (the L2 penalty). Those steps
/// are deferred and replayed row by row when a batch next uses the feature, or when the epoch
/// ends: the same operations in the same order, so the same weights, but each row stays in
/// cache through all its steps instead of the whole layer streaming through memory on every
/// batch (on a 8,713-word vocabulary a batch of 200 texts uses about a fifth of the rows).
struct GradientStep {
    let settings: MLPTraining
    private var first: [[Double]]
    private var second: [[Double]]
    private var t = 0
    private(set) var learningRate: Double
    /// `‖W‖²` before each step of the current epoch, for the loss's penalty.
    private var squares: [Double] = []
    /// The first layer's deferred steps; nil for dense input.
    private var deferred: DeferredSteps?

    /// - Parameter sparseInput: true when the first layer's input is CSR, so that its absent
    ///   features' steps are deferred.
    init(settings: MLPTraining, network: NeuralNetwork, sparseInput: Bool) {
        self.settings = settings
        first = network.weights.map { [Double](repeating: 0, count: $0.elements.count) } + network.biases.map { [Double](repeating: 0, count: $0.count) }
        second = settings.solver == .adam ? first : first.map { _ in [] }
        learningRate = settings.learningRateInit
        if sparseInput {
            deferred = DeferredSteps(rowCount: network.weights[0].rowCount, width: network.weights[0].columnCount)
        }
    }

    /// Moves the weights by one step along the pass's gradients, finishing each weight
    /// gradient, `(Aᵀ·δ + α·W) / rows` in scikit-learn's order of operations, in the same pass;
    /// large layers are split across the cores. Records `‖W‖²` of the weights the pass used.
    /// - Parameter firstLayerRows: with sparse input, the features whose first-layer rows the
    ///   pass's compact first gradient holds, in its row order (brought up to date by
    ///   `catchUp`); the other rows' steps are deferred.
    mutating func apply(_ pass: Backpropagation, to network: inout NeuralNetwork, rows: Int, firstLayerRows: [Int32]?) {
        let layerCount = network.weights.count
        if settings.solver == .adam {
            t += 1
            learningRate = settings.learningRateInit * (1 - pow(settings.beta2, Double(t))).squareRoot() / (1 - pow(settings.beta1, Double(t)))
        }
        let weights = lathe_step_constants(settings, rate: learningRate, alpha: settings.alpha, rows: Double(rows))
        // A bias gradient is already final: no penalty, no division.
        let biases = lathe_step_constants(settings, rate: learningRate, alpha: 0, rows: 1)
        let solver = Solver(settings)
        let width = network.weights[0].columnCount
        var total = 0.0
        for block in 0..<(2 * layerCount) {
            let l = block % layerCount
            first[block].withUnsafeMutableBufferPointer { m in
                second[block].withUnsafeMutableBufferPointer { v in
                    if block < layerCount {
                        network.weights[l].withUnsafeMutableBufferPointer { p in
                            pass.weightGradients[l].withUnsafeBufferPointer { g in
                                let state = StateBuffers(p, m, v)
                                if block == 0, let firstLayerRows {
                                    total += Self.stepRows(state, g.baseAddress!, firstLayerRows, width: width, weights, solver)
                                } else {
                                    total += Self.step(state, g.baseAddress!, count: p.count, weights, solver)
                                }
                            }
                        }
                    } else {
                        network.biases[l].withUnsafeMutableBufferPointer { p in
                            pass.biasGradients[l].withUnsafeBufferPointer { g in
                                _ = Self.step(StateBuffers(p, m, v), g.baseAddress!, count: p.count, biases, solver)
                            }
                        }
                    }
                }
            }
        }
        squares.append(total)
        if deferred != nil {
            deferred!.history.append(weights)
            if let firstLayerRows {
                let done = Int32(squares.count)
                for f in firstLayerRows { deferred!.stepsDone[Int(f)] = done }
            }
        }
    }

    /// Ends an epoch's steps: replays every deferred step, so the network is current, and
    /// returns `‖W‖²` before each of the epoch's steps.
    mutating func finishEpoch(_ network: inout NeuralNetwork) -> [Double] {
        if let rowCount = deferred?.stepsDone.count {
            catchUp((0..<Int32(rowCount)).map { $0 }, &network)
            deferred!.history.removeAll(keepingCapacity: true)
            deferred!.stepsDone = [Int32](repeating: 0, count: rowCount)
        }
        defer { squares.removeAll(keepingCapacity: true) }
        return squares
    }

    /// SGD's `invscaling` schedule after an epoch: `η₀ / (samples seen + 1)^power_t`.
    mutating func epochEnded(samplesSeen: Int) {
        if settings.solver == .sgd, settings.learningRate == .invscaling {
            learningRate = settings.learningRateInit / pow(Double(samplesSeen + 1), settings.powerT)
        }
    }

    /// After `n_iter_no_change` epochs without improvement: stop, except that SGD's `adaptive`
    /// schedule divides its step by 5 and goes on while the step is above 1e-6.
    mutating func shouldStop() -> Bool {
        guard settings.solver == .sgd, settings.learningRate == .adaptive, learningRate > 1e-6 else { return true }
        learningRate /= 5
        return false
    }

    /// Elements per chunk of parallel work. Chunks, not threads, fix how the partial sums of
    /// `‖W‖²` are grouped, so the loss does not depend on the number of cores.
    private static let chunkElements = 1 << 15

    /// One block's update; returns Σ w² before the step.
    private static func step(_ state: StateBuffers, _ gradient: UnsafePointer<Double>, count: Int,
                             _ k: lathe_step_constants, _ solver: Solver) -> Double {
        let chunks = (count + chunkElements - 1) / chunkElements
        let g = Pointer(gradient)
        return concurrentChunks(chunks, work: count) { c in
            let start = c * chunkElements, end = min(start + chunkElements, count)
            return solver.update(state.offset(start), g.base + start, count: end - start, k)
        }.reduce(0, +)
    }

    /// The first layer's update on the rows of `features`, whose gradients are the rows of the
    /// compact `gradient` in that order; returns their Σ w² before the step.
    private static func stepRows(_ state: StateBuffers, _ gradient: UnsafePointer<Double>, _ features: [Int32],
                                 width: Int, _ k: lathe_step_constants, _ solver: Solver) -> Double {
        let perChunk = max(1, chunkElements / width)
        let chunks = (features.count + perChunk - 1) / perChunk
        let g = Pointer(gradient)
        return features.withUnsafeBufferPointer { f in
            let rows = Pointer(f.baseAddress!), rowCount = f.count
            return concurrentChunks(chunks, work: features.count * width) { c in
                var sum = 0.0
                for j in (c * perChunk)..<min((c + 1) * perChunk, rowCount) {
                    let row = Int(rows.base[j])
                    sum += solver.update(state.offset(row * width), g.base + j * width, count: width, k)
                }
                return sum
            }
        }.reduce(0, +)
    }

    /// Brings the first-layer rows of `features` up to date (before a batch that uses them, or
    /// at the end of the epoch): replays their deferred steps, adding their Σ w² before each
    /// step to that step's total.
    mutating func catchUp(_ features: [Int32], _ network: inout NeuralNetwork) {
        // Taken out of `self` while it is used, so the update below does not copy its arrays.
        guard var deferred, !deferred.history.isEmpty else { return }
        self.deferred = nil
        defer { self.deferred = deferred }
        let width = deferred.width, stepCount = deferred.history.count, solver = Solver(settings)
        let perChunk = max(1, Self.chunkElements / width)
        let chunks = (features.count + perChunk - 1) / perChunk
        let partials = first[0].withUnsafeMutableBufferPointer { m in
            second[0].withUnsafeMutableBufferPointer { v in
                network.weights[0].withUnsafeMutableBufferPointer { p in
                    let state = StateBuffers(p, m, v)
                    return features.withUnsafeBufferPointer { f in
                        deferred.stepsDone.withUnsafeBufferPointer { done in
                            deferred.history.withUnsafeBufferPointer { history in
                                let (rows, done, history) = (Pointer(f.baseAddress!), Pointer(done.baseAddress!), Pointer(history.baseAddress!))
                                let rowCount = f.count
                                let pending = features.reduce(0) { $0 + stepCount - Int(done.base[Int($1)]) }
                                return Self.concurrentChunks(chunks, work: pending * width) { c in
                                    var sums = [Double](repeating: 0, count: stepCount)
                                    for j in (c * perChunk)..<min((c + 1) * perChunk, rowCount) {
                                        let row = Int(rows.base[j])
                                        let from = Int(done.base[row])
                                        sums.withUnsafeMutableBufferPointer { sums in
                                            solver.replay(state.offset(row * width), count: width, steps: history.base + from,
                                                          stepCount: stepCount - from, squares: sums.baseAddress! + from)
                                        }
                                    }
                                    return sums
                                }
                            }
                        }
                    }
                }
            }
        }
        for partial in partials {
            for s in 0..<stepCount { squares[s] += partial[s] }
        }
        let current = Int32(stepCount)
        for f in features { deferred.stepsDone[Int(f)] = current }
    }

    /// `body` for each chunk index, on up to `BLAS.kernelThreadCount` threads when `work`
    /// (elements touched) is large enough to pay for the hand-off; results in chunk order.
    private static func concurrentChunks<T: Sendable>(_ chunks: Int, work: Int, _ body: @Sendable (Int) -> T) -> [T] {
        let threads = work < 1 << 17 ? 1 : BLAS.kernelThreadCount
        guard threads > 1, chunks > 1 else { return (0..<chunks).map(body) }
        return concurrentMap(count: chunks, threads: threads, body)
    }
}

/// The first layer's deferred steps (sparse input) within the current epoch.
private struct DeferredSteps {
    let width: Int
    /// Per first-layer row: how many of the epoch's steps it has taken.
    var stepsDone: [Int32]
    /// The constants of each of the epoch's weight steps.
    var history: [lathe_step_constants] = []

    init(rowCount: Int, width: Int) {
        self.width = width
        stepsDone = [Int32](repeating: 0, count: rowCount)
    }
}

extension lathe_step_constants {
    init(_ settings: MLPTraining, rate: Double, alpha: Double, rows: Double) {
        self.init(rate: rate, alpha: alpha, rows: rows, beta1: settings.beta1, beta2: settings.beta2, epsilon: settings.epsilon)
    }
}

/// A read-only pointer handed to worker threads; sound while its buffer stays pinned by the
/// enclosing `withUnsafe…` call, which outlives the workers.
private struct Pointer<T>: @unchecked Sendable {
    let base: UnsafePointer<T>
    init(_ base: UnsafePointer<T>) { self.base = base }
}

/// One block's parameters and optimizer state, handed to worker threads. Sound because each
/// thread touches only its own elements and every parallel call returns only after all its
/// threads have finished, while the buffers are pinned by `withUnsafe…`.
private struct StateBuffers: @unchecked Sendable {
    let parameters: UnsafeMutablePointer<Double>
    let first: UnsafeMutablePointer<Double>
    /// Adam's second moments; nil for SGD.
    let second: UnsafeMutablePointer<Double>?

    init(_ p: UnsafeMutableBufferPointer<Double>, _ m: UnsafeMutableBufferPointer<Double>, _ v: UnsafeMutableBufferPointer<Double>) {
        parameters = p.baseAddress!
        first = m.baseAddress!
        second = v.baseAddress
    }

    private init(_ p: UnsafeMutablePointer<Double>, _ m: UnsafeMutablePointer<Double>, _ v: UnsafeMutablePointer<Double>?) {
        parameters = p
        first = m
        second = v
    }

    /// The same buffers from element `start` on.
    @inline(__always) func offset(_ start: Int) -> StateBuffers {
        StateBuffers(parameters + start, first + start, second.map { $0 + start })
    }
}

/// The optimizer's fixed settings, with the element kernels.
private struct Solver: Sendable {
    let kind: MLPTraining.Solver
    let momentum: Double
    let nesterov: Bool

    init(_ settings: MLPTraining) {
        kind = settings.solver
        momentum = settings.momentum
        nesterov = settings.nesterovsMomentum
    }

    /// One step on `count` elements, in scikit-learn's order of operations; returns Σ w²
    /// before the step.
    /// - Parameter g: the data gradient `Aᵀ·δ`; nil when the batch had no entry in the row's
    ///   feature, so only the penalty moves it.
    @inline(__always)
    func update(_ b: StateBuffers, _ g: UnsafePointer<Double>?, count: Int, _ k: lathe_step_constants) -> Double {
        switch kind {
        case .adam:
            return withUnsafePointer(to: k) { lathe_adam_step(b.parameters, g, b.first, b.second!, count, $0) }
        case .sgd:
            var squares = 0.0
            let p = b.parameters, m = b.first
            for e in 0..<count {
                let w = p[e]
                squares += w * w
                let grad = ((g?[e] ?? 0) + k.alpha * w) / k.rows
                var u = momentum * m[e] - k.rate * grad
                m[e] = u
                if nesterov { u = momentum * u - k.rate * grad }
                p[e] = w + u
            }
            return squares
        }
    }

    /// `stepCount` deferred steps (no data gradient) on `count` elements, adding Σ w² before
    /// step `s` to `squares[s]`.
    @inline(__always)
    func replay(_ b: StateBuffers, count: Int, steps: UnsafePointer<lathe_step_constants>, stepCount: Int,
                squares: UnsafeMutablePointer<Double>) {
        switch kind {
        case .adam:
            lathe_adam_replay(b.parameters, b.first, b.second!, count, steps, stepCount, squares)
        case .sgd:
            for s in 0..<stepCount { squares[s] += update(b, nil, count: count, steps[s]) }
        }
    }
}
