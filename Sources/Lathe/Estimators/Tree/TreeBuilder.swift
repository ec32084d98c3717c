import Foundation
import Linalg

/// The stopping rules and sampling of one tree fit, resolved to counts.
struct TreeSettings {
    var maxDepth: Int
    var minSamplesSplit: Int
    var minSamplesLeaf: Int
    var minImpurityDecrease: Double
    /// Features examined per split.
    var maxFeatures: Int
    /// Best-first growth up to this many leaves when set; depth-first otherwise.
    var maxLeafNodes: Int?
    var seed: UInt32
}

/// Node statistics and split search for one criterion. The builder hands it a node's samples,
/// then, feature by feature, the samples sorted by that feature with their values.
protocol SplitCriterion {
    /// Values stored per node: class fractions, or one prediction.
    var outputCount: Int { get }
    /// Computes the statistics of the node made of `samples`.
    mutating func prepare(_ samples: UnsafeBufferPointer<Int32>)
    /// The prepared node's impurity and total sample weight.
    var impurity: Double { get }
    var weight: Double { get }
    /// The prepared node's stored value(s).
    func value() -> [Double]
    /// The split of the prepared node, sorted by a feature, with the largest proxy improvement
    /// (a quantity ordered as the impurity decrease): left = the first `position` samples.
    /// Only positions between distinct values (more than 1e-7 apart, scikit-learn's
    /// `FEATURE_THRESHOLD`) leaving `minLeaf` samples on each side count; nil if none does or
    /// none beats `bound`.
    mutating func bestSplit(_ sorted: UnsafeBufferPointer<Int32>, _ values: UnsafeBufferPointer<Float>,
                            minLeaf: Int, bound: Double) -> (position: Int, proxy: Double)?
    /// Impurity and weight of each side of the split at `position`.
    mutating func sides(_ sorted: UnsafeBufferPointer<Int32>, position: Int)
        -> (leftImpurity: Double, leftWeight: Double, rightImpurity: Double, rightWeight: Double)
}

/// Builds a CART tree on dense features stored column by column in single precision (as
/// scikit-learn's trees use them), with every feature's samples sorted once at the start: a
/// node owns the same contiguous segment in each feature's sorted order, and splitting a node
/// partitions each segment stably, so no node ever sorts again.
struct TreeBuilder<C: SplitCriterion> {
    let rowCount: Int
    let featureCount: Int
    /// `columns[j * rowCount + i]` = feature j of row i.
    let columns: [Float]
    var criterion: C
    let settings: TreeSettings

    /// `order[j * rowCount ..< (j + 1) * rowCount]` are the rows sorted by feature j; a node
    /// is the range `start..<end` of every one of them.
    private var order: [Int32]
    /// scikit-learn's splitter state: its `rand_r` seed, the feature permutation that persists
    /// from node to node, and the record of constant features behind it.
    private var randomState: UInt32
    private var features: [Int]
    private var constantFeatures: [Int]
    private var goesLeft: [Bool]
    private var scratchValues: [Float]
    private var scratchOrder: [Int32]
    private(set) var tree: TreeStructure
    /// Impurity decrease per feature, weighted by node weight (unnormalised importances).
    private(set) var importance: [Double]
    /// The total sample weight, the root's.
    private var rootWeight = 0.0

    private struct Node {
        var start: Int
        var end: Int
        var depth: Int
        var parent: Int?
        var isLeft: Bool
        /// How many features lead `features` as known constant (scikit-learn's
        /// `n_constant_features`; always 0 in best-first growth, as there).
        var constantCount: Int
    }

    /// A chosen split, not yet applied.
    private struct Split {
        var feature: Int
        var position: Int
        var threshold: Double
        var proxy: Double
        /// The weighted impurity decrease (scikit-learn's `improvement`) and the node-weighted
        /// decrease that feature importances sum.
        var improvement = 0.0
        var importance = 0.0
        var constantCount = 0
    }

    init(columns: [Float], rowCount: Int, featureCount: Int, criterion: C, settings: TreeSettings) {
        self.columns = columns
        self.rowCount = rowCount
        self.featureCount = featureCount
        self.criterion = criterion
        self.settings = settings
        // `Splitter.__cinit__`: `rand_r_state = random_state.randint(0, RAND_R_MAX)` on NumPy's
        // RandomState(random_state).
        var numpy = MersenneTwister(seed: settings.seed)
        randomState = UInt32(numpy.nextInt(upTo: 2_147_483_646))
        features = Array(0..<featureCount)
        constantFeatures = features
        goesLeft = [Bool](repeating: false, count: rowCount)
        scratchValues = [Float](repeating: 0, count: rowCount)
        scratchOrder = [Int32](repeating: 0, count: rowCount)
        tree = TreeStructure(outputCount: criterion.outputCount)
        importance = [Double](repeating: 0, count: featureCount)
        order = Self.presort(columns, rowCount: rowCount, featureCount: featureCount)
    }

    /// Each feature's rows by increasing value (ties by row), features sorted in parallel.
    private static func presort(_ columns: [Float], rowCount n: Int, featureCount: Int) -> [Int32] {
        let threads = n * featureCount < 100_000 ? 1 : BLAS.kernelThreadCount
        return concurrentMap(count: featureCount, threads: threads) { j -> [Int32] in
            columns.withUnsafeBufferPointer { values in
                let column = UnsafeBufferPointer(rebasing: values[(j * n)..<((j + 1) * n)])
                return (0..<Int32(n)).sorted { a, b in
                    let va = column[Int(a)], vb = column[Int(b)]
                    return va < vb || (va == vb && a < b)
                }
            }
        }.flatMap { $0 }
    }

    /// Grows the tree: depth-first (nodes numbered in pre-order, left first, as scikit-learn's
    /// `DepthFirstTreeBuilder`), or best-first when `maxLeafNodes` is set.
    mutating func build() {
        let root = Node(start: 0, end: rowCount, depth: 0, parent: nil, isLeft: false, constantCount: 0)
        if let maxLeaves = settings.maxLeafNodes {
            buildBestFirst(root, maxLeaves: maxLeaves)
            return
        }
        var stack = [root]
        while let node = stack.popLast() {
            let (id, split) = addNode(node)
            guard let split else { continue }
            let (left, right) = apply(split, to: node, id: id)
            stack.append(right)
            stack.append(left)
        }
    }

    /// scikit-learn's `BestFirstTreeBuilder`: the frontier node whose split decreases impurity
    /// most is split next, until `maxLeaves` leaves exist; nodes are numbered as created.
    private mutating func buildBestFirst(_ root: Node, maxLeaves: Int) {
        var frontier: [(node: Node, id: Int, split: Split)] = []
        let (rootId, rootSplit) = addNode(root)
        if let rootSplit { frontier.append((root, rootId, rootSplit)) }
        var splitsLeft = maxLeaves - 1
        while splitsLeft > 0, !frontier.isEmpty {
            // Largest improvement first; the earlier node on ties.
            var best = 0
            for k in frontier.indices.dropFirst() where frontier[k].split.improvement > frontier[best].split.improvement {
                best = k
            }
            let chosen = frontier.remove(at: best)
            let (left, right) = apply(chosen.split, to: chosen.node, id: chosen.id)
            splitsLeft -= 1
            for child in [left, right] {
                let (id, split) = addNode(child)
                if let split { frontier.append((child, id, split)) }
            }
        }
    }

    /// Adds `node` to the tree as a leaf and returns its index, with the split to apply when the
    /// stopping rules allow one.
    private mutating func addNode(_ node: Node) -> (Int, Split?) {
        let count = node.end - node.start
        let samples = order.withUnsafeBufferPointer { o in UnsafeBufferPointer(rebasing: o[node.start..<node.end]) }
        criterion.prepare(samples)
        let impurity = criterion.impurity, weight = criterion.weight
        if node.parent == nil { rootWeight = weight }
        let id = tree.addNode(value: criterion.value(), impurity: impurity, samples: count, weight: weight)
        if let parent = node.parent {
            if node.isLeft { tree.left[parent] = id } else { tree.right[parent] = id }
        }
        if node.depth >= settings.maxDepth || count < settings.minSamplesSplit || count < 2 * settings.minSamplesLeaf
            || impurity <= Double.ulpOfOne {
            return (id, nil)
        }
        guard var split = findSplit(node) else { return (id, nil) }
        let base = split.feature * rowCount
        let sides = order.withUnsafeBufferPointer { o in
            criterion.sides(UnsafeBufferPointer(rebasing: o[(base + node.start)..<(base + node.end)]), position: split.position)
        }
        split.improvement = (weight / rootWeight) * (impurity - sides.leftWeight / weight * sides.leftImpurity
                                                     - sides.rightWeight / weight * sides.rightImpurity)
        split.importance = weight * impurity - sides.leftWeight * sides.leftImpurity - sides.rightWeight * sides.rightImpurity
        guard split.improvement + Double.ulpOfOne >= settings.minImpurityDecrease else { return (id, nil) }
        return (id, split)
    }

    /// scikit-learn's `BestSplitter.node_split`: draws features without replacement, skipping
    /// those known constant, until `maxFeatures` have been examined (more while every one drawn
    /// was constant), and keeps the best split over them. Ties go to the feature drawn first.
    private mutating func findSplit(_ node: Node) -> Split? {
        let count = node.end - node.start
        let knownConstants = node.constantCount
        var totalConstants = knownConstants
        var drawnConstants = 0, foundConstants = 0, visited = 0
        var remaining = featureCount
        var best: Split?
        // Locals, so the criterion (part of self) can change while they are borrowed.
        let order = self.order, columns = self.columns, rowCount = self.rowCount, minLeaf = settings.minSamplesLeaf
        var scratch: [Float] = []
        swap(&scratch, &scratchValues)
        defer { swap(&scratch, &scratchValues) }
        while remaining > totalConstants
                && (visited < settings.maxFeatures || visited <= foundConstants + drawnConstants) {
            visited += 1
            var f = drawnConstants + Int(nextRandom() % UInt32(remaining - foundConstants - drawnConstants))
            if f < knownConstants {
                features.swapAt(drawnConstants, f)
                drawnConstants += 1
                continue
            }
            f += foundConstants
            let j = features[f]
            let base = j * rowCount + node.start
            let bound = best?.proxy ?? -.infinity
            var constant = false
            let candidate: Split? = order.withUnsafeBufferPointer { o in
                let sorted = UnsafeBufferPointer(rebasing: o[base..<(base + count)])
                return columns.withUnsafeBufferPointer { column in
                    scratch.withUnsafeMutableBufferPointer { v in
                        let offset = j * rowCount
                        for p in 0..<count { v[p] = column[offset + Int(sorted[p])] }
                        if Double(v[count - 1]) <= Double(v[0]) + 1e-7 {
                            constant = true
                            return nil
                        }
                        let values = UnsafeBufferPointer(rebasing: v[0..<count])
                        guard let found = criterion.bestSplit(sorted, values, minLeaf: minLeaf, bound: bound) else {
                            return nil
                        }
                        // scikit-learn's midpoint, computed in double from the single-precision values.
                        let below = Double(values[found.position - 1]), above = Double(values[found.position])
                        var threshold = below / 2 + above / 2
                        if threshold == above || !threshold.isFinite { threshold = below }
                        return Split(feature: j, position: found.position, threshold: threshold, proxy: found.proxy)
                    }
                }
            }
            if constant {
                // Constant here, so in every descendant: moved among the constants.
                features.swapAt(f, totalConstants)
                foundConstants += 1
                totalConstants += 1
                continue
            }
            remaining -= 1
            features.swapAt(remaining, f)
            if let candidate { best = candidate }
        }
        // Restore the known constants' order for siblings and children; record the new ones.
        for k in 0..<knownConstants { features[k] = constantFeatures[k] }
        for k in knownConstants..<(knownConstants + foundConstants) { constantFeatures[k] = features[k] }
        best?.constantCount = settings.maxLeafNodes == nil ? totalConstants : 0
        return best
    }

    /// scikit-learn's `our_rand_r`: xorshift on the 32-bit state, reduced below 2³¹.
    private mutating func nextRandom() -> UInt32 {
        if randomState == 0 { randomState = 1 }
        randomState ^= randomState << 13
        randomState ^= randomState >> 17
        randomState ^= randomState << 5
        return randomState % 2_147_483_648
    }

    /// Records `split` on node `id` and partitions the node's segment of every feature's order
    /// into left then right, stably; returns the children.
    private mutating func apply(_ split: Split, to node: Node, id: Int) -> (Node, Node) {
        tree.split(id, feature: split.feature, threshold: split.threshold, left: TreeStructure.leaf, right: TreeStructure.leaf)
        importance[split.feature] += split.importance
        let mid = node.start + split.position
        let n = rowCount, featureCount = self.featureCount
        var goesLeft: [Bool] = [], spillBuffer: [Int32] = []
        swap(&goesLeft, &self.goesLeft)
        swap(&spillBuffer, &scratchOrder)
        defer {
            swap(&goesLeft, &self.goesLeft)
            swap(&spillBuffer, &scratchOrder)
        }
        order.withUnsafeMutableBufferPointer { o in
            goesLeft.withUnsafeMutableBufferPointer { marks in
                let chosen = split.feature * n
                for p in node.start..<node.end { marks[Int(o[chosen + p])] = p < mid }
                spillBuffer.withUnsafeMutableBufferPointer { spill in
                    for j in 0..<featureCount where j != split.feature {
                        let base = j * n
                        var l = node.start, r = 0
                        for p in node.start..<node.end {
                            let row = o[base + p]
                            if marks[Int(row)] { o[base + l] = row; l += 1 } else { spill[r] = row; r += 1 }
                        }
                        for k in 0..<r { o[base + l + k] = spill[k] }
                    }
                }
            }
        }
        return (Node(start: node.start, end: mid, depth: node.depth + 1, parent: id, isLeft: true, constantCount: split.constantCount),
                Node(start: mid, end: node.end, depth: node.depth + 1, parent: id, isLeft: false, constantCount: split.constantCount))
    }

    /// Importances normalised to sum to 1 (all zero for a lone root).
    var featureImportances: [Double] {
        let total = importance.reduce(0, +)
        return total > 0 ? importance.map { $0 / total } : importance
    }
}
