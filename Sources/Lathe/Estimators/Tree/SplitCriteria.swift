import Foundation

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
    private var leftWeight = 0.0
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

    static var aggregatesZeros: Bool { true }

    mutating func beginScan(_ sorted: UnsafeBufferPointer<Int32>) {
        for c in 0..<classCount { leftCounts[c] = 0 }
        leftWeight = 0
    }

    @inline(__always) mutating func moveLeft(_ sample: Int32) {
        let i = Int(sample)
        let w = sampleWeights[i]
        leftCounts[Int(labels[i])] += w
        leftWeight += w
    }

    mutating func moveAllLeft(except rest: UnsafeBufferPointer<Int32>) {
        for c in 0..<classCount { leftCounts[c] = totals[c] }
        leftWeight = weight
        for i in rest {
            let w = sampleWeights[Int(i)]
            leftCounts[Int(labels[Int(i)])] -= w
            leftWeight -= w
        }
    }

    /// scikit-learn's proxy, −w_R·impurity_R − w_L·impurity_L, computed as it does so that
    /// equally good splits tie-break the same way.
    @inline(__always) func proxy(leftCount: Int, count: Int) -> Double {
        let rightWeight = weight - leftWeight, leftWeight = self.leftWeight
        var il = 0.0, ir = 0.0
        switch kind {
        case .gini:
            var sl = 0.0, sr = 0.0
            for c in 0..<classCount {
                let l = leftCounts[c], r = totals[c] - l
                sl += l * l
                sr += r * r
            }
            il = 1 - sl / (leftWeight * leftWeight)
            ir = 1 - sr / (rightWeight * rightWeight)
        case .entropy:
            for c in 0..<classCount {
                let l = leftCounts[c], r = totals[c] - l
                if l > 0 {
                    let p = l / leftWeight
                    il -= p * Self.log2(p)
                }
                if r > 0 {
                    let p = r / rightWeight
                    ir -= p * Self.log2(p)
                }
            }
        }
        return -rightWeight * ir - leftWeight * il
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
    private var sum = 0.0, squares = 0.0, leftSum = 0.0
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

    static var aggregatesZeros: Bool { true }

    mutating func beginScan(_ sorted: UnsafeBufferPointer<Int32>) { leftSum = 0 }

    @inline(__always) mutating func moveLeft(_ sample: Int32) { leftSum += targets[Int(sample)] }

    mutating func moveAllLeft(except rest: UnsafeBufferPointer<Int32>) {
        leftSum = sum
        for i in rest { leftSum -= targets[Int(i)] }
    }

    /// Σ² / n per side: ordered as the decrease of the summed squared error.
    @inline(__always) func proxy(leftCount: Int, count: Int) -> Double {
        let right = sum - leftSum
        return leftSum * leftSum / Double(leftCount) + right * right / Double(count - leftCount)
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
    private var forward = RunningMedian()

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

    /// The median needs every sample in order, zeros included.
    static var aggregatesZeros: Bool { false }

    mutating func beginScan(_ sorted: UnsafeBufferPointer<Int32>) {
        let n = sorted.count
        if suffix.count < n + 1 { suffix = [Double](repeating: 0, count: n + 1) }
        var backward = RunningMedian()
        for p in stride(from: n - 1, through: 1, by: -1) {
            backward.insert(targets[Int(sorted[p])])
            suffix[p] = backward.absoluteDeviation
        }
        forward = RunningMedian()
    }

    mutating func moveLeft(_ sample: Int32) { forward.insert(targets[Int(sample)]) }

    mutating func moveAllLeft(except rest: UnsafeBufferPointer<Int32>) {
        preconditionFailure("absolute error scans every sample")
    }

    func proxy(leftCount: Int, count: Int) -> Double { -(forward.absoluteDeviation + suffix[leftCount]) }

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
