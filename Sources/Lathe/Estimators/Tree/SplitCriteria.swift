import Foundation

/// Whether the rows up to sorted position `p` may go left and the rest right: the values on
/// either side differ by more than scikit-learn's `FEATURE_THRESHOLD` (1e-7, compared in double
/// precision), and each side keeps `minLeaf` rows.
@inline(__always)
func isSplitBoundary(_ values: UnsafeBufferPointer<Float>, after p: Int, minLeaf: Int) -> Bool {
    let position = p + 1
    return Double(values[position]) > Double(values[p]) + 1e-7 && position >= minLeaf && values.count - position >= minLeaf
}

/// Gini impurity or entropy over weighted class counts (scikit-learn's `gini`, `entropy` and
/// `log_loss`, entropy in bits).
struct ClassificationCriterion: SplitCriterion {
    enum Kind { case gini, entropy }
    let kind: Kind
    let labels: [Int32]
    let sampleWeights: [Double]
    let classCount: Int
    private var totals: [Double]
    private var leftCounts: [Double]
    private(set) var weight = 0.0

    init(kind: Kind, labels: [Int32], sampleWeights: [Double], classCount: Int) {
        self.kind = kind
        self.labels = labels
        self.sampleWeights = sampleWeights
        self.classCount = classCount
        totals = [Double](repeating: 0, count: classCount)
        leftCounts = totals
    }

    var outputCount: Int { classCount }

    mutating func prepare(_ samples: UnsafeBufferPointer<Int32>) {
        for k in 0..<classCount { totals[k] = 0 }
        weight = 0
        labels.withUnsafeBufferPointer { y in
            sampleWeights.withUnsafeBufferPointer { w in
                for i in samples {
                    totals[Int(y[Int(i)])] += w[Int(i)]
                    weight += w[Int(i)]
                }
            }
        }
    }

    var impurity: Double { Self.impurity(kind, totals, weight) }

    /// scikit-learn's `log` in its tree criteria: `ln(x) / ln(2)`, rounded as it rounds.
    @inline(__always) static func log2(_ x: Double) -> Double { Foundation.log(x) / Foundation.log(2.0) }

    func value() -> [Double] { totals.map { $0 / weight } }

    @inline(__always) private static func impurity(_ kind: Kind, _ counts: [Double], _ total: Double) -> Double {
        switch kind {
        case .gini:
            var squares = 0.0
            for c in counts { squares += c * c }
            return 1 - squares / (total * total)
        case .entropy:
            var entropy = 0.0
            for c in counts where c > 0 {
                let p = c / total
                entropy -= p * Self.log2(p)
            }
            return entropy
        }
    }

    mutating func bestSplit(_ sorted: UnsafeBufferPointer<Int32>, _ values: UnsafeBufferPointer<Float>,
                            minLeaf: Int, bound: Double) -> (position: Int, proxy: Double)? {
        let n = sorted.count, k = classCount
        var best: (Int, Double)?
        var bestProxy = bound
        var leftWeight = 0.0
        let kind = self.kind, weight = self.weight
        labels.withUnsafeBufferPointer { y in
            sampleWeights.withUnsafeBufferPointer { w in
                totals.withUnsafeBufferPointer { total in
                    leftCounts.withUnsafeMutableBufferPointer { left in
                        for c in 0..<k { left[c] = 0 }
                        for p in 0..<(n - 1) {
                            let i = Int(sorted[p])
                            left[Int(y[i])] += w[i]
                            leftWeight += w[i]
                            let position = p + 1
                            guard isSplitBoundary(values, after: p, minLeaf: minLeaf) else { continue }
                            let rightWeight = weight - leftWeight
                            // scikit-learn's proxy, −w_R·impurity_R − w_L·impurity_L, computed as it
                            // does so that equally good splits tie-break the same way.
                            var il = 0.0, ir = 0.0
                            switch kind {
                            case .gini:
                                var sl = 0.0, sr = 0.0
                                for c in 0..<k {
                                    sl += left[c] * left[c]
                                    let r = total[c] - left[c]
                                    sr += r * r
                                }
                                il = 1 - sl / (leftWeight * leftWeight)
                                ir = 1 - sr / (rightWeight * rightWeight)
                            case .entropy:
                                for c in 0..<k {
                                    if left[c] > 0 {
                                        let p = left[c] / leftWeight
                                        il -= p * Self.log2(p)
                                    }
                                    let r = total[c] - left[c]
                                    if r > 0 {
                                        let p = r / rightWeight
                                        ir -= p * Self.log2(p)
                                    }
                                }
                            }
                            let proxy = -rightWeight * ir - leftWeight * il
                            if proxy > bestProxy {
                                bestProxy = proxy
                                best = (position, proxy)
                            }
                        }
                    }
                }
            }
        }
        return best
    }

    mutating func sides(_ sorted: UnsafeBufferPointer<Int32>, position: Int)
        -> (leftImpurity: Double, leftWeight: Double, rightImpurity: Double, rightWeight: Double) {
        var left = [Double](repeating: 0, count: classCount)
        var leftWeight = 0.0
        for p in 0..<position {
            let i = Int(sorted[p])
            left[Int(labels[i])] += sampleWeights[i]
            leftWeight += sampleWeights[i]
        }
        let right = zip(totals, left).map { $0 - $1 }
        let rightWeight = weight - leftWeight
        return (Self.impurity(kind, left, leftWeight), leftWeight, Self.impurity(kind, right, rightWeight), rightWeight)
    }
}

/// Squared error: variance impurity, mean prediction (scikit-learn's `squared_error`).
struct SquaredErrorCriterion: SplitCriterion {
    let targets: [Double]
    private var sum = 0.0, squares = 0.0
    private(set) var weight = 0.0

    init(targets: [Double]) { self.targets = targets }

    var outputCount: Int { 1 }

    mutating func prepare(_ samples: UnsafeBufferPointer<Int32>) {
        (sum, squares) = targets.withUnsafeBufferPointer { y in
            var s = 0.0, q = 0.0
            for i in samples {
                s += y[Int(i)]
                q += y[Int(i)] * y[Int(i)]
            }
            return (s, q)
        }
        weight = Double(samples.count)
    }

    var impurity: Double { squares / weight - (sum / weight) * (sum / weight) }

    func value() -> [Double] { [sum / weight] }

    mutating func bestSplit(_ sorted: UnsafeBufferPointer<Int32>, _ values: UnsafeBufferPointer<Float>,
                            minLeaf: Int, bound: Double) -> (position: Int, proxy: Double)? {
        let n = sorted.count, total = sum
        var best: (Int, Double)?
        var bestProxy = bound
        var left = 0.0
        targets.withUnsafeBufferPointer { y in
            for p in 0..<(n - 1) {
                left += y[Int(sorted[p])]
                let position = p + 1
                guard isSplitBoundary(values, after: p, minLeaf: minLeaf) else { continue }
                let right = total - left
                // Σ² / n per side: ordered as the decrease of the summed squared error.
                let proxy = left * left / Double(position) + right * right / Double(n - position)
                if proxy > bestProxy {
                    bestProxy = proxy
                    best = (position, proxy)
                }
            }
        }
        return best
    }

    mutating func sides(_ sorted: UnsafeBufferPointer<Int32>, position: Int)
        -> (leftImpurity: Double, leftWeight: Double, rightImpurity: Double, rightWeight: Double) {
        var ls = 0.0, lq = 0.0
        for p in 0..<position {
            let v = targets[Int(sorted[p])]
            ls += v
            lq += v * v
        }
        let nl = Double(position), nr = weight - nl
        let rs = sum - ls, rq = squares - lq
        return (lq / nl - (ls / nl) * (ls / nl), nl, rq / nr - (rs / nr) * (rs / nr), nr)
    }
}

/// Absolute error: mean absolute deviation from the median, median prediction (scikit-learn's
/// `absolute_error`; the median of an even count is the midpoint of the middle two).
struct AbsoluteErrorCriterion: SplitCriterion {
    let targets: [Double]
    private var median = 0.0
    private(set) var impurity = 0.0
    private(set) var weight = 0.0
    /// Summed absolute deviations of each prefix (forward) and suffix (backward) of a scan.
    private var suffix: [Double] = []

    init(targets: [Double]) { self.targets = targets }

    var outputCount: Int { 1 }

    mutating func prepare(_ samples: UnsafeBufferPointer<Int32>) {
        var running = RunningMedian()
        for i in samples { running.insert(targets[Int(i)]) }
        median = running.median
        impurity = running.absoluteDeviation / Double(samples.count)
        weight = Double(samples.count)
    }

    func value() -> [Double] { [median] }

    mutating func bestSplit(_ sorted: UnsafeBufferPointer<Int32>, _ values: UnsafeBufferPointer<Float>,
                            minLeaf: Int, bound: Double) -> (position: Int, proxy: Double)? {
        let n = sorted.count
        if suffix.count < n + 1 { suffix = [Double](repeating: 0, count: n + 1) }
        var backward = RunningMedian()
        for p in stride(from: n - 1, through: 1, by: -1) {
            backward.insert(targets[Int(sorted[p])])
            suffix[p] = backward.absoluteDeviation
        }
        var forward = RunningMedian()
        var best: (Int, Double)?
        var bestProxy = bound
        for p in 0..<(n - 1) {
            forward.insert(targets[Int(sorted[p])])
            let position = p + 1
            guard isSplitBoundary(values, after: p, minLeaf: minLeaf) else { continue }
            let proxy = -(forward.absoluteDeviation + suffix[position])
            if proxy > bestProxy {
                bestProxy = proxy
                best = (position, proxy)
            }
        }
        return best
    }

    mutating func sides(_ sorted: UnsafeBufferPointer<Int32>, position: Int)
        -> (leftImpurity: Double, leftWeight: Double, rightImpurity: Double, rightWeight: Double) {
        var left = RunningMedian(), right = RunningMedian()
        for p in 0..<sorted.count {
            if p < position { left.insert(targets[Int(sorted[p])]) } else { right.insert(targets[Int(sorted[p])]) }
        }
        let nl = Double(position), nr = Double(sorted.count - position)
        return (left.absoluteDeviation / nl, nl, right.absoluteDeviation / nr, nr)
    }
}

/// The median of a growing multiset and the summed absolute deviation from it, in O(log n) per
/// insertion: a max-heap of the lower half and a min-heap of the upper half, with their sums.
struct RunningMedian {
    private var lower = Heap(maximum: true), upper = Heap(maximum: false)
    private var lowerSum = 0.0, upperSum = 0.0

    mutating func insert(_ v: Double) {
        if let top = lower.top, v > top {
            upper.push(v); upperSum += v
        } else {
            lower.push(v); lowerSum += v
        }
        // Keep the lower half equal to or one larger than the upper half.
        if lower.count > upper.count + 1 {
            let moved = lower.pop(); lowerSum -= moved
            upper.push(moved); upperSum += moved
        } else if upper.count > lower.count {
            let moved = upper.pop(); upperSum -= moved
            lower.push(moved); lowerSum += moved
        }
    }

    var median: Double {
        guard let low = lower.top else { return 0 }
        return lower.count > upper.count ? low : low / 2 + upper.top! / 2
    }

    /// Σ |v − median|: the upper half's excess over the lower half's, plus the median once
    /// when the count is odd.
    var absoluteDeviation: Double {
        upperSum - lowerSum + (lower.count > upper.count ? lower.top! : 0)
    }
}

/// A binary heap of doubles, largest or smallest on top.
struct Heap {
    let maximum: Bool
    private var items: [Double] = []

    init(maximum: Bool) { self.maximum = maximum }

    var count: Int { items.count }
    var top: Double? { items.first }

    @inline(__always) private func above(_ a: Double, _ b: Double) -> Bool { maximum ? a > b : a < b }

    mutating func push(_ v: Double) {
        items.append(v)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard above(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Double {
        let result = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var next = i
                if l < items.count, above(items[l], items[next]) { next = l }
                if r < items.count, above(items[r], items[next]) { next = r }
                if next == i { break }
                items.swapAt(i, next)
                i = next
            }
        }
        return result
    }
}
