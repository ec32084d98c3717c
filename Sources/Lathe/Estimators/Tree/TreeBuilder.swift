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

/// Node statistics and the split scan of one criterion. The builder hands it a node's samples,
/// then, feature by feature, moves the samples from the right side to the left in the order of
/// the feature's values and asks for the proxy at every boundary between distinct values.
protocol SplitCriterion {
    /// Values stored per node: class fractions, or one prediction.
    var outputCount: Int { get }
    /// Whether a run of samples can move left at once (`moveAllLeft(except:)`), which lets
    /// sparse columns treat the implicit zeros of a feature as a single step of the scan.
    static var aggregatesZeros: Bool { get }
    /// Computes the statistics of the node made of `samples`.
    mutating func prepare(_ samples: UnsafeBufferPointer<Int32>)
    /// The prepared node's impurity and total sample weight.
    var impurity: Double { get }
    var weight: Double { get }
    /// The prepared node's stored value(s).
    func value() -> [Double]
    /// Starts a scan with every sample on the right; `sorted` are the samples the scan will
    /// move one by one, in order.
    mutating func beginScan(_ sorted: UnsafeBufferPointer<Int32>)
    /// Moves one sample to the left.
    mutating func moveLeft(_ sample: Int32)
    /// Moves every sample of the node to the left except `rest`.
    mutating func moveAllLeft(except rest: UnsafeBufferPointer<Int32>)
    /// A quantity ordered as the impurity decrease of the current split, `leftCount` of the
    /// node's `count` samples on the left (scikit-learn's `proxy_impurity_improvement`).
    func proxy(leftCount: Int, count: Int) -> Double
    /// Impurity and weight of each side when the first `position` of `samples` go left.
    mutating func sides(_ samples: UnsafeBufferPointer<Int32>, position: Int)
        -> (leftImpurity: Double, leftWeight: Double, rightImpurity: Double, rightWeight: Double)
}

/// A node's samples in increasing order of one feature. With a zero block, the samples whose
/// feature is an implicit zero are not listed: they sit, as one run of `zeroCount`, before
/// `sorted[zeroIndex]`.
struct FeatureOrder {
    var sorted: UnsafeBufferPointer<Int32>
    var values: UnsafeBufferPointer<Float>
    var zeroIndex: Int
    var zeroCount: Int
}

/// How the builder reads the features: it sees a node as a range `start..<end` of positions.
protocol TreeColumns {
    var rowCount: Int { get }
    var featureCount: Int { get }
    /// The node's samples; after `partition`, the left child's come first.
    func withSamples<R>(_ start: Int, _ end: Int, _ body: (UnsafeBufferPointer<Int32>) -> R) -> R
    /// The node's samples ordered by feature `j` (ties by row), zeros as a block when
    /// `zeroBlock` allows it.
    mutating func withOrder<R>(of j: Int, _ start: Int, _ end: Int, zeroBlock: Bool, _ body: (FeatureOrder) -> R) -> R
    /// Rearranges the node so that the `leftCount` samples whose feature `j` is at most
    /// `threshold` come first, and so each child is again a range.
    mutating func partition(_ start: Int, _ end: Int, feature j: Int, threshold: Double, leftCount: Int)
}

/// Dense features column by column in single precision (as scikit-learn's trees read them),
/// every feature's samples sorted once at the start: a node owns the same contiguous segment in
/// each feature's order, and a split partitions each segment stably, so no node sorts again.
struct DenseTreeColumns: TreeColumns {
    let rowCount: Int
    let featureCount: Int
    /// `columns[j * rowCount + i]` = feature j of row i.
    private let columns: [Float]
    /// `order[j * rowCount ..< (j + 1) * rowCount]` are the rows sorted by feature j.
    private var order: [Int32]
    private var scratchValues: [Float]
    private var goesLeft: [Bool]
    private var spill: [Int32]

    init(columns: [Float], rowCount: Int, featureCount: Int) {
        self.columns = columns
        self.rowCount = rowCount
        self.featureCount = featureCount
        order = Self.presort(columns, rowCount: rowCount, featureCount: featureCount)
        scratchValues = [Float](repeating: 0, count: rowCount)
        goesLeft = [Bool](repeating: false, count: rowCount)
        spill = [Int32](repeating: 0, count: rowCount)
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

    func withSamples<R>(_ start: Int, _ end: Int, _ body: (UnsafeBufferPointer<Int32>) -> R) -> R {
        order.withUnsafeBufferPointer { o in body(UnsafeBufferPointer(rebasing: o[start..<end])) }
    }

    mutating func withOrder<R>(of j: Int, _ start: Int, _ end: Int, zeroBlock: Bool, _ body: (FeatureOrder) -> R) -> R {
        let base = j * rowCount, count = end - start
        return order.withUnsafeBufferPointer { o in
            columns.withUnsafeBufferPointer { column in
                scratchValues.withUnsafeMutableBufferPointer { v in
                    let sorted = UnsafeBufferPointer(rebasing: o[(base + start)..<(base + end)])
                    for p in 0..<count { v[p] = column[base + Int(sorted[p])] }
                    return body(FeatureOrder(sorted: sorted, values: UnsafeBufferPointer(rebasing: v[0..<count]),
                                             zeroIndex: count, zeroCount: 0))
                }
            }
        }
    }

    mutating func partition(_ start: Int, _ end: Int, feature: Int, threshold: Double, leftCount: Int) {
        let n = rowCount, featureCount = self.featureCount, mid = start + leftCount
        order.withUnsafeMutableBufferPointer { o in
            goesLeft.withUnsafeMutableBufferPointer { marks in
                let chosen = feature * n
                for p in start..<end { marks[Int(o[chosen + p])] = p < mid }
                spill.withUnsafeMutableBufferPointer { spill in
                    for j in 0..<featureCount where j != feature {
                        let base = j * n
                        var l = start, r = 0
                        for p in start..<end {
                            let row = o[base + p]
                            if marks[Int(row)] { o[base + l] = row; l += 1 } else { spill[r] = row; r += 1 }
                        }
                        for k in 0..<r { o[base + l + k] = spill[k] }
                    }
                }
            }
        }
    }
}

/// Sparse features column by column (CSC, explicit zeros dropped), in single precision. A node
/// is a range of one sample array; each feature's stored entries in the node are gathered and
/// sorted when the feature is examined, so the work per node and feature follows the nonzeros,
/// and the implicit zeros, one block, are one step of the scan (scikit-learn's
/// `SparsePartitioner` does the same).
struct SparseTreeColumns: TreeColumns {
    let rowCount: Int
    let featureCount: Int
    private let offsets: [Int]
    private let rows: [Int32]
    private let values: [Float]
    private var samples: [Int32]
    /// Where each row sits in `samples`.
    private var positions: [Int32]
    private var keys: [UInt64] = []
    private var sortedRows: [Int32]
    private var sortedValues: [Float]
    private var isStored: [Bool]
    private var goesLeft: [Bool]

    /// - Parameter columns: the transpose of the CSR features (rows of it are features).
    /// - Throws: `FitError` for values beyond single precision.
    init(transposed columns: SparseMatrix) throws(FitError) {
        rowCount = columns.columnCount
        featureCount = columns.rowCount
        var offsets = [0], rows: [Int32] = [], values: [Float] = []
        offsets.reserveCapacity(featureCount + 1)
        rows.reserveCapacity(columns.storedCount)
        values.reserveCapacity(columns.storedCount)
        for j in 0..<featureCount {
            for p in columns.rowOffsets[j]..<columns.rowOffsets[j + 1] {
                let v = columns.values[p]
                guard abs(v) <= Double(Float.greatestFiniteMagnitude) else {
                    throw .unsupportedInput("a feature value is too large for a tree (beyond single precision)")
                }
                if Float(v) != 0 {
                    rows.append(columns.columnIndices[p])
                    values.append(Float(v))
                }
            }
            offsets.append(rows.count)
        }
        self.offsets = offsets
        self.rows = rows
        self.values = values
        samples = (0..<Int32(rowCount)).map { $0 }
        positions = samples
        sortedRows = [Int32](repeating: 0, count: rowCount)
        sortedValues = [Float](repeating: 0, count: rowCount)
        isStored = [Bool](repeating: false, count: rowCount)
        goesLeft = isStored
    }

    func withSamples<R>(_ start: Int, _ end: Int, _ body: (UnsafeBufferPointer<Int32>) -> R) -> R {
        samples.withUnsafeBufferPointer { s in body(UnsafeBufferPointer(rebasing: s[start..<end])) }
    }

    /// Calls `body(row, value)` for every stored entry of feature `j` whose row is in the
    /// node: by walking the column when it is short, by binary search per sample otherwise.
    @inline(__always)
    private func forEachStored(_ j: Int, _ start: Int, _ end: Int, _ body: (Int32, Float) -> Void) {
        let low = offsets[j], high = offsets[j + 1], stored = high - low, count = end - start
        guard stored > 0 else { return }
        rows.withUnsafeBufferPointer { r in
            values.withUnsafeBufferPointer { v in
                if stored <= count * (Int.bitWidth - stored.leadingZeroBitCount) {
                    positions.withUnsafeBufferPointer { position in
                        for p in low..<high {
                            let at = Int(position[Int(r[p])])
                            if at >= start && at < end { body(r[p], v[p]) }
                        }
                    }
                } else {
                    samples.withUnsafeBufferPointer { s in
                        for k in start..<end {
                            let row = s[k]
                            let lo = lowerBound(of: row, in: r, low, high)
                            if lo < high && r[lo] == row { body(row, v[lo]) }
                        }
                    }
                }
            }
        }
    }

    mutating func withOrder<R>(of j: Int, _ start: Int, _ end: Int, zeroBlock: Bool, _ body: (FeatureOrder) -> R) -> R {
        // Sorting (value, row) packed in one integer orders by value, then row, with no comparator.
        var keys: [UInt64] = []
        swap(&keys, &self.keys)
        defer { swap(&keys, &self.keys) }
        keys.removeAll(keepingCapacity: true)
        forEachStored(j, start, end) { row, value in
            let bits = value.bitPattern
            let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
            keys.append(UInt64(ordered) << 32 | UInt64(UInt32(row)))
        }
        keys.sort()
        let stored = keys.count, count = end - start
        var negatives = 0
        while negatives < stored && keys[negatives] >> 63 == 0 { negatives += 1 }
        let zeroCount = count - stored
        return sortedRows.withUnsafeMutableBufferPointer { sr in
            sortedValues.withUnsafeMutableBufferPointer { sv in
                // Without a zero block the zeros are listed in place, between the signs.
                let gap = zeroBlock ? 0 : zeroCount
                for (k, key) in keys.enumerated() {
                    let bits = UInt32(truncatingIfNeeded: key >> 32)
                    let at = k < negatives ? k : k + gap
                    sr[at] = Int32(truncatingIfNeeded: key & 0xFFFF_FFFF)
                    sv[at] = Float(bitPattern: bits & 0x8000_0000 != 0 ? bits & 0x7FFF_FFFF : ~bits)
                }
                if !zeroBlock && gap > 0 {
                    isStored.withUnsafeMutableBufferPointer { marks in
                        for key in keys { marks[Int(key & 0xFFFF_FFFF)] = true }
                        var at = negatives
                        samples.withUnsafeBufferPointer { s in
                            // Partitions are stable from 0..<n, so a node's samples are in row order.
                            for row in s[start..<end] where !marks[Int(row)] {
                                sr[at] = row
                                sv[at] = 0
                                at += 1
                            }
                        }
                        for key in keys { marks[Int(key & 0xFFFF_FFFF)] = false }
                    }
                }
                let listed = zeroBlock ? stored : count
                return body(FeatureOrder(sorted: UnsafeBufferPointer(rebasing: sr[0..<listed]),
                                         values: UnsafeBufferPointer(rebasing: sv[0..<listed]),
                                         zeroIndex: zeroBlock ? negatives : listed, zeroCount: zeroBlock ? zeroCount : 0))
            }
        }
    }

    mutating func partition(_ start: Int, _ end: Int, feature j: Int, threshold: Double, leftCount: Int) {
        var marks: [Bool] = []
        swap(&marks, &goesLeft)
        defer { swap(&marks, &goesLeft) }
        let zeroGoesLeft = 0 <= threshold
        for k in start..<end { marks[Int(samples[k])] = zeroGoesLeft }
        forEachStored(j, start, end) { row, value in marks[Int(row)] = Double(value) <= threshold }
        // Stable, so the node's samples keep their relative order; the node's rows are copied
        // to the (idle) sort scratch first.
        var node: [Int32] = []
        swap(&node, &sortedRows)
        defer { swap(&node, &sortedRows) }
        for k in start..<end { node[k - start] = samples[k] }
        var l = start, r = start + leftCount
        for row in node[0..<(end - start)] {
            let at: Int
            if marks[Int(row)] { at = l; l += 1 } else { at = r; r += 1 }
            samples[at] = row
            positions[Int(row)] = Int32(at)
        }
        precondition(l == start + leftCount && r == end, "the split's sides disagree with its threshold")
    }
}

/// Grows a CART tree over either kind of columns, with scikit-learn's split search, feature
/// sampling and growth orders. The columns and the criterion are passed in rather than stored,
/// so that they change in place while the builder's own state does.
struct TreeBuilder<C: SplitCriterion, Columns: TreeColumns> {
    let settings: TreeSettings

    /// scikit-learn's splitter state: its `rand_r` seed, the feature permutation that persists
    /// from node to node, and the record of constant features behind it.
    private var randomState: UInt32
    private var features: [Int]
    private var constantFeatures: [Int]
    private(set) var tree: TreeStructure
    /// Impurity decrease per feature, weighted by node weight (unnormalised importances).
    private(set) var importance: [Double]

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

    /// A chosen split, already partitioned into the node's range but not yet in the tree.
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

    init(featureCount: Int, outputCount: Int, settings: TreeSettings) {
        self.settings = settings
        // `Splitter.__cinit__`: `rand_r_state = random_state.randint(0, RAND_R_MAX)` on NumPy's
        // RandomState(random_state).
        var numpy = MersenneTwister(seed: settings.seed)
        randomState = UInt32(numpy.nextInt(upTo: 2_147_483_646))
        features = Array(0..<featureCount)
        constantFeatures = features
        tree = TreeStructure(outputCount: outputCount)
        importance = [Double](repeating: 0, count: featureCount)
    }

    /// Grows the tree: depth-first (nodes numbered in pre-order, left first, as scikit-learn's
    /// `DepthFirstTreeBuilder`), or best-first when `maxLeafNodes` is set.
    mutating func build(_ columns: inout Columns, _ criterion: inout C) {
        let root = Node(start: 0, end: columns.rowCount, depth: 0, parent: nil, isLeft: false, constantCount: 0)
        if let maxLeaves = settings.maxLeafNodes {
            buildBestFirst(root, maxLeaves: maxLeaves, &columns, &criterion)
            return
        }
        var stack = [root]
        while let node = stack.popLast() {
            let (id, split) = addNode(node, &columns, &criterion)
            guard let split else { continue }
            let (left, right) = apply(split, to: node, id: id)
            stack.append(right)
            stack.append(left)
        }
    }

    /// scikit-learn's `BestFirstTreeBuilder`: the frontier node whose split decreases impurity
    /// most is split next, until `maxLeaves` leaves exist; nodes are numbered as created.
    private mutating func buildBestFirst(_ root: Node, maxLeaves: Int, _ columns: inout Columns, _ criterion: inout C) {
        var frontier: [(node: Node, id: Int, split: Split)] = []
        let (rootId, rootSplit) = addNode(root, &columns, &criterion)
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
                let (id, split) = addNode(child, &columns, &criterion)
                if let split { frontier.append((child, id, split)) }
            }
        }
    }

    /// Adds `node` to the tree as a leaf and returns its index, with the split to apply when the
    /// stopping rules allow one (the node's range is then already partitioned by it).
    private mutating func addNode(_ node: Node, _ columns: inout Columns, _ criterion: inout C) -> (Int, Split?) {
        let count = node.end - node.start
        columns.withSamples(node.start, node.end) { criterion.prepare($0) }
        let impurity = criterion.impurity, weight = criterion.weight
        let id = tree.addNode(value: criterion.value(), impurity: impurity, samples: count, weight: weight)
        if let parent = node.parent {
            if node.isLeft { tree.left[parent] = id } else { tree.right[parent] = id }
        }
        if node.depth >= settings.maxDepth || count < settings.minSamplesSplit || impurity <= Double.ulpOfOne {
            return (id, nil)
        }
        guard var split = findSplit(node, &columns, &criterion) else { return (id, nil) }
        columns.partition(node.start, node.end, feature: split.feature, threshold: split.threshold, leftCount: split.position)
        let sides = columns.withSamples(node.start, node.end) { criterion.sides($0, position: split.position) }
        split.improvement = (weight / tree.weightedSampleCount[0]) * (impurity - sides.leftWeight / weight * sides.leftImpurity
                                                     - sides.rightWeight / weight * sides.rightImpurity)
        split.importance = weight * impurity - sides.leftWeight * sides.leftImpurity - sides.rightWeight * sides.rightImpurity
        guard split.improvement + Double.ulpOfOne >= settings.minImpurityDecrease else { return (id, nil) }
        return (id, split)
    }

    /// scikit-learn's `BestSplitter.node_split`: draws features without replacement, skipping
    /// those known constant, until `maxFeatures` have been examined (more while every one drawn
    /// was constant), and keeps the best split over them. Ties go to the feature drawn first.
    private mutating func findSplit(_ node: Node, _ columns: inout Columns, _ criterion: inout C) -> Split? {
        let knownConstants = node.constantCount
        var totalConstants = knownConstants
        var drawnConstants = 0, foundConstants = 0, visited = 0
        var remaining = columns.featureCount
        var best: Split?
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
            var constant = false
            let minLeaf = settings.minSamplesLeaf, bound = best?.proxy ?? -.infinity
            let candidate = columns.withOrder(of: j, node.start, node.end, zeroBlock: C.aggregatesZeros) { order in
                Self.bestSplit(order, count: node.end - node.start, criterion: &criterion, minLeaf: minLeaf, bound: bound,
                               constant: &constant)
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
            if let candidate { best = Split(feature: j, position: candidate.position, threshold: candidate.threshold, proxy: candidate.proxy) }
        }
        // Restore the known constants' order for siblings and children; record the new ones.
        for k in 0..<knownConstants { features[k] = constantFeatures[k] }
        for k in knownConstants..<(knownConstants + foundConstants) { constantFeatures[k] = features[k] }
        best?.constantCount = settings.maxLeafNodes == nil ? totalConstants : 0
        return best
    }

    /// The split of one feature's order with the largest proxy above `bound`: the samples move
    /// left one by one (the zero block at once), and every position between values more than
    /// 1e-7 apart (scikit-learn's `FEATURE_THRESHOLD`, compared in double) that leaves `minLeaf`
    /// samples on each side is a candidate. Sets `constant` when the values span 1e-7 or less.
    @inline(__always)
    private static func bestSplit(_ order: FeatureOrder, count: Int, criterion: inout C, minLeaf: Int, bound: Double,
                                  constant: inout Bool) -> (position: Int, threshold: Double, proxy: Double)? {
        let sorted = order.sorted, values = order.values, listed = sorted.count
        let zeroIndex = order.zeroIndex, zeroCount = order.zeroCount
        let first = zeroCount > 0 && zeroIndex == 0 ? 0 : Double(values[0])
        let last = zeroCount > 0 && zeroIndex == listed ? 0 : Double(values[listed - 1])
        if last <= first + 1e-7 {
            constant = true
            return nil
        }
        criterion.beginScan(sorted)
        var best: (position: Int, below: Double, above: Double, proxy: Double)?
        var bestProxy = bound
        var k = 0, left = 0
        var zerosPending = zeroCount > 0
        while true {
            let current: Double
            if zerosPending && k == zeroIndex {
                criterion.moveAllLeft(except: UnsafeBufferPointer(rebasing: sorted[zeroIndex...]))
                left += zeroCount
                zerosPending = false
                current = 0
            } else {
                criterion.moveLeft(sorted[k])
                current = Double(values[k])
                k += 1
                left += 1
            }
            if left >= count - minLeaf + 1 { break }
            let next = zerosPending && k == zeroIndex ? 0 : Double(values[k])
            guard next > current + 1e-7, left >= minLeaf else { continue }
            let proxy = criterion.proxy(leftCount: left, count: count)
            if proxy > bestProxy {
                bestProxy = proxy
                best = (left, current, next, proxy)
            }
        }
        guard let best else { return nil }
        // scikit-learn's midpoint, computed in double from the single-precision values.
        var threshold = best.below / 2 + best.above / 2
        if threshold == best.above || !threshold.isFinite { threshold = best.below }
        return (best.position, threshold, best.proxy)
    }

    /// scikit-learn's `our_rand_r`: xorshift on the 32-bit state, reduced below 2³¹.
    private mutating func nextRandom() -> UInt32 {
        if randomState == 0 { randomState = 1 }
        randomState ^= randomState << 13
        randomState ^= randomState >> 17
        randomState ^= randomState << 5
        return randomState % 2_147_483_648
    }

    /// Records `split` on node `id` (its range already partitioned) and returns the children.
    private mutating func apply(_ split: Split, to node: Node, id: Int) -> (Node, Node) {
        tree.split(id, feature: split.feature, threshold: split.threshold)
        importance[split.feature] += split.importance
        let mid = node.start + split.position
        return (Node(start: node.start, end: mid, depth: node.depth + 1, parent: id, isLeft: true, constantCount: split.constantCount),
                Node(start: mid, end: node.end, depth: node.depth + 1, parent: id, isLeft: false, constantCount: split.constantCount))
    }

    /// Importances normalised to sum to 1 (all zero for a lone root).
    var featureImportances: [Double] {
        let total = importance.reduce(0, +)
        return total > 0 ? importance.map { $0 / total } : importance
    }
}
