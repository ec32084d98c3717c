import Linalg

/// A fitted CART tree in scikit-learn's flat layout (`tree_`): node `i` either splits on
/// `feature[i]` at `threshold[i]` (rows with `x ≤ threshold` go to `left[i]`, the others to
/// `right[i]`) or is a leaf (`feature = -2`, `threshold = -2`, children `-1`). Children always
/// come after their parent, which is what makes walking a tree read from a file terminate.
public struct TreeStructure: Sendable, Equatable {
    /// The feature a node splits on; `TreeStructure.undefined` for a leaf.
    public internal(set) var feature: [Int] = []
    /// Rows with `Float(x) ≤ threshold` go left (features are compared in single precision,
    /// as scikit-learn's trees do); `undefined` for a leaf.
    public internal(set) var threshold: [Double] = []
    public internal(set) var left: [Int] = []
    public internal(set) var right: [Int] = []
    /// `nodes × outputCount`, row-major: class fractions (classification) or the predicted value.
    public internal(set) var value: [Double] = []
    public let outputCount: Int
    /// The node's impurity under the fitting criterion.
    public internal(set) var impurity: [Double] = []
    /// Training samples that reached the node, and their total weight.
    public internal(set) var sampleCount: [Int] = []
    public internal(set) var weightedSampleCount: [Double] = []

    /// scikit-learn's `TREE_LEAF` (a leaf's children) and `TREE_UNDEFINED` (its feature and threshold).
    public static let leaf = -1, undefined = -2

    init(outputCount: Int) { self.outputCount = outputCount }

    public var nodeCount: Int { feature.count }

    /// The depth of the deepest leaf (0 for a lone root).
    public var depth: Int {
        var depths = [Int](repeating: 0, count: nodeCount), deepest = 0
        for i in 0..<nodeCount where feature[i] != Self.undefined {
            depths[left[i]] = depths[i] + 1
            depths[right[i]] = depths[i] + 1
            deepest = max(deepest, depths[i] + 1)
        }
        return deepest
    }

    public var leafCount: Int { feature.lazy.filter { $0 == Self.undefined }.count }

    /// Appends a node (a leaf until `split` is called) and returns its index.
    mutating func addNode(value nodeValue: [Double], impurity nodeImpurity: Double, samples: Int, weight: Double) -> Int {
        feature.append(Self.undefined)
        threshold.append(Double(Self.undefined))
        left.append(Self.leaf)
        right.append(Self.leaf)
        value.append(contentsOf: nodeValue)
        impurity.append(nodeImpurity)
        sampleCount.append(samples)
        weightedSampleCount.append(weight)
        return feature.count - 1
    }

    /// Makes leaf `node` a split; the builder links its children as it adds them.
    mutating func split(_ node: Int, feature f: Int, threshold t: Double) {
        feature[node] = f
        threshold[node] = t
    }

    /// The leaf each row of `x` reaches.
    /// - Throws: `FitError.featureCountMismatch`, `.nonFiniteFeatures`.
    func leaves(_ x: FeatureMatrix, featureCount: Int) throws(FitError) -> [Int] {
        try validatePredictInputs(x, featureCount: featureCount)
        var out = [Int](repeating: 0, count: x.rowCount)
        switch x {
        case let .dense(m):
            m.withUnsafeBufferPointer { v in
                for i in 0..<m.rowCount {
                    let row = i * m.columnCount
                    var node = 0
                    while feature[node] != Self.undefined {
                        node = Double(Float(v[row + feature[node]])) <= threshold[node] ? left[node] : right[node]
                    }
                    out[i] = node
                }
            }
        case let .sparse(s):
            s.columnIndices.withUnsafeBufferPointer { columns in
                s.values.withUnsafeBufferPointer { values in
                    for i in 0..<s.rowCount {
                        let start = s.rowOffsets[i], end = s.rowOffsets[i + 1]
                        var node = 0
                        while feature[node] != Self.undefined {
                            // Binary search of the row's sorted columns; absent means zero.
                            let f = Int32(feature[node])
                            let lo = lowerBound(of: f, in: columns, start, end)
                            let x = lo < end && columns[lo] == f ? values[lo] : 0
                            node = Double(Float(x)) <= threshold[node] ? left[node] : right[node]
                        }
                        out[i] = node
                    }
                }
            }
        }
        return out
    }

    /// `rows × outputCount`: each row's leaf value.
    func predict(_ x: FeatureMatrix, featureCount: Int) throws(FitError) -> Matrix {
        let leaves = try leaves(x, featureCount: featureCount)
        var out = Matrix(rowCount: leaves.count, columnCount: outputCount)
        out.withUnsafeMutableBufferPointer { o in
            for (i, leaf) in leaves.enumerated() {
                for k in 0..<outputCount { o[i * outputCount + k] = value[leaf * outputCount + k] }
            }
        }
        return out
    }

    // MARK: - Model files

    /// `tree.feature`, `tree.threshold`, `tree.left`, `tree.right` (one per node), `tree.value`
    /// (`[nodes, outputs]`), `tree.impurity`, `tree.n_node_samples`, `tree.weighted_n_node_samples`,
    /// and the model's `feature_importances` (whose length is its feature count).
    func tensors(featureImportances: [Double]) -> [String: Tensor] {
        let n = nodeCount
        return [
            "feature_importances": Tensor(featureImportances, shape: [featureImportances.count]),
            "tree.feature": Tensor(feature.map(Int64.init), shape: [n]),
            "tree.threshold": Tensor(threshold, shape: [n]),
            "tree.left": Tensor(left.map(Int64.init), shape: [n]),
            "tree.right": Tensor(right.map(Int64.init), shape: [n]),
            "tree.value": Tensor(value, shape: [n, outputCount]),
            "tree.impurity": Tensor(impurity, shape: [n]),
            "tree.n_node_samples": Tensor(sampleCount.map(Int64.init), shape: [n]),
            "tree.weighted_n_node_samples": Tensor(weightedSampleCount, shape: [n]),
        ]
    }

    /// Reads and checks the node arrays: matching lengths, every split's children after it and
    /// reached from exactly one parent, features within `featureCount`, finite numbers.
    /// - Throws: `InputError` naming the first thing wrong.
    init(tensors: [String: Tensor], outputCount: Int, featureCount: Int, location: String) throws(InputError) {
        self.outputCount = outputCount
        func ints(_ name: String) throws(InputError) -> [Int] {
            guard let t = tensors[name], let v = t.int64s, t.shape.count == 1 else {
                throw InputError("tensor \(name) is missing or is not a one-dimensional I64 array", at: location)
            }
            return v.map { Int(clamping: $0) }
        }
        func doubles(_ name: String, shape: [Int]? = nil) throws(InputError) -> [Double] {
            guard let t = tensors[name], let v = t.doubles, shape.map({ t.shape == $0 }) ?? (t.shape.count == 1) else {
                throw InputError("tensor \(name) is missing or is not F64 of the expected shape", at: location)
            }
            guard v.allSatisfy(\.isFinite) else { throw InputError("tensor \(name) holds NaN or infinity", at: location) }
            return v
        }
        feature = try ints("tree.feature")
        let n = feature.count
        guard n >= 1 else { throw InputError("a tree needs at least one node", at: location) }
        threshold = try doubles("tree.threshold")
        left = try ints("tree.left")
        right = try ints("tree.right")
        value = try doubles("tree.value", shape: [n, outputCount])
        impurity = try doubles("tree.impurity")
        sampleCount = try ints("tree.n_node_samples")
        weightedSampleCount = try doubles("tree.weighted_n_node_samples")
        guard [threshold.count, left.count, right.count, impurity.count, sampleCount.count, weightedSampleCount.count]
            .allSatisfy({ $0 == n }) else {
            throw InputError("the tree.* node arrays differ in length", at: location)
        }
        var parents = [Int](repeating: 0, count: n)
        for i in 0..<n {
            if feature[i] == Self.undefined {
                guard left[i] == Self.leaf, right[i] == Self.leaf else {
                    throw InputError("tree node \(i) is a leaf with children", at: location)
                }
                continue
            }
            guard (0..<featureCount).contains(feature[i]) else {
                throw InputError("tree node \(i) splits on feature \(feature[i]), outside 0..<\(featureCount)", at: location)
            }
            guard left[i] > i, right[i] > i, left[i] < n, right[i] < n, left[i] != right[i] else {
                throw InputError("tree node \(i) has children out of order or out of range", at: location)
            }
            parents[left[i]] += 1
            parents[right[i]] += 1
        }
        guard parents[0] == 0, parents.dropFirst().allSatisfy({ $0 == 1 }) else {
            throw InputError("the tree.* arrays do not form a single tree", at: location)
        }
    }
}

/// The first position in `low..<high` of the ascending `sorted` whose value is not below `key`
/// (`high` when none).
@inline(__always)
func lowerBound(of key: Int32, in sorted: UnsafeBufferPointer<Int32>, _ low: Int, _ high: Int) -> Int {
    var lo = low, hi = high
    while lo < hi {
        let mid = (lo + hi) / 2
        if sorted[mid] < key { lo = mid + 1 } else { hi = mid }
    }
    return lo
}
