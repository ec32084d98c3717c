/// One train/test split: row indices, never copies of the data.
public struct Split: Sendable, Equatable {
    /// Training rows: ascending for the k-fold splitters, in drawn order for `ShuffleSplit`.
    public var train: [Int]
    /// Test rows, in the splitter's order.
    public var test: [Int]
}

extension Split {
    /// The k-fold splits of a fold assignment (`testFold[row]` in `0..<foldCount`): fold i
    /// tests the rows assigned i and trains on the rest. Both index lists ascend, as
    /// scikit-learn's (it builds them from boolean masks), so fold-level outputs line up row
    /// for row.
    static func kFold(testFold: [Int], foldCount: Int) -> [Split] {
        (0..<foldCount).map { i in
            Split(train: testFold.indices.filter { testFold[$0] != i }, test: testFold.indices.filter { testFold[$0] == i })
        }
    }
}

/// Something that divides `n` rows into train/test splits.
public protocol Splitter: Sendable {
    var foldCount: Int { get }
    var seed: UInt32 { get }
    /// True when folds keep class proportions.
    var isStratified: Bool { get }
    /// The splits for `rowCount` rows; `labels` (class indices, one per row) when stratifying.
    /// - Throws: `UsageError` when the rows cannot be split as configured.
    func splits(rowCount: Int, labels: [Int]?) throws(UsageError) -> [Split]
}

/// K-fold cross-validation splits, as scikit-learn's `KFold`: the (optionally shuffled) rows
/// cut into `k` consecutive folds, the first `n mod k` of them one row larger.
public struct KFold: Splitter, Equatable {
    public var foldCount: Int
    public var shuffle: Bool
    /// The `random_state` used when shuffling.
    public var seed: UInt32

    /// - Precondition: `foldCount >= 2`.
    public init(foldCount: Int = 5, shuffle: Bool = true, seed: UInt32 = 0) {
        self.foldCount = foldCount
        self.shuffle = shuffle
        self.seed = seed
    }

    public var isStratified: Bool { false }

    /// The splits; `labels` are ignored.
    public func splits(rowCount: Int, labels: [Int]? = nil) throws(UsageError) -> [Split] {
        guard foldCount >= 2 else { throw UsageError("--folds must be at least 2, got \(foldCount)") }
        guard foldCount <= rowCount else {
            throw UsageError("cannot make \(foldCount) folds from \(rowCount) rows")
        }
        var order = Array(0..<rowCount)
        if shuffle {
            var rng = MersenneTwister(seed: seed)
            rng.shuffle(&order)
        }
        // Consecutive runs of the (shuffled) order, the first `rowCount % foldCount` one longer.
        var testFold = [Int](repeating: 0, count: rowCount)
        var start = 0
        for fold in 0..<foldCount {
            let size = rowCount / foldCount + (fold < rowCount % foldCount ? 1 : 0)
            for i in order[start..<(start + size)] { testFold[i] = fold }
            start += size
        }
        return Split.kFold(testFold: testFold, foldCount: foldCount)
    }
}

/// Random train/test splits, as scikit-learn's `ShuffleSplit` (and, with one split,
/// `train_test_split` without stratification): each split is a fresh permutation of the rows
/// from one seeded stream, its first `ceil(testFraction · n)` rows the test set and the rest
/// the training set, both in drawn order.
public struct ShuffleSplit: Splitter, Equatable {
    public var foldCount: Int
    /// The share of rows held out, in (0, 1).
    public var testFraction: Double
    public var seed: UInt32

    public init(splits: Int = 10, testFraction: Double = 0.1, seed: UInt32 = 0) {
        self.foldCount = splits
        self.testFraction = testFraction
        self.seed = seed
    }

    public var isStratified: Bool { false }

    /// The splits; `labels` are ignored.
    /// - Throws: `UsageError` for no splits, a fraction outside (0, 1), or a split that would
    ///   leave the training or the test set empty.
    public func splits(rowCount: Int, labels: [Int]? = nil) throws(UsageError) -> [Split] {
        guard foldCount >= 1 else { throw UsageError("splits must be at least 1, got \(foldCount)") }
        guard testFraction > 0, testFraction < 1 else {
            throw UsageError("the test fraction must be between 0 and 1, got \(testFraction)")
        }
        let testCount = Int((testFraction * Double(rowCount)).rounded(.up))
        guard testCount < rowCount else {
            throw UsageError("a test fraction of \(testFraction) leaves no training rows out of \(rowCount)")
        }
        var random = MersenneTwister(seed: seed)
        return (0..<foldCount).map { _ in
            let permutation = random.permutation(rowCount)
            return Split(train: Array(permutation[testCount...]), test: Array(permutation[..<testCount]))
        }
    }
}
