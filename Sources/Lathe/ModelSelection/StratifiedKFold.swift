/// Stratified k-fold splits, as scikit-learn's `StratifiedKFold`: each class's rows are dealt
/// to the folds so every fold keeps the class proportions; with `shuffle`, which rows of a class
/// go to which fold is drawn from the seed (NumPy's `RandomState`, so the folds equal
/// scikit-learn's for the same seed).
public struct StratifiedKFold: Splitter, Equatable {
    public var foldCount: Int
    public var shuffle: Bool
    public var seed: UInt32

    public init(foldCount: Int = 5, shuffle: Bool = true, seed: UInt32 = 0) {
        self.foldCount = foldCount
        self.shuffle = shuffle
        self.seed = seed
    }

    public var isStratified: Bool { true }

    public func splits(rowCount: Int, labels: [Int]?) throws(UsageError) -> [Split] {
        var random = MersenneTwister(seed: seed)
        return try splits(rowCount: rowCount, labels: labels, random: &random)
    }

    /// The splits, shuffling from `random` (scikit-learn's `random_state=RandomState(...)`,
    /// which `RepeatedStratifiedKFold` shares between its repeats).
    func splits(rowCount: Int, labels: [Int]?, random rng: inout MersenneTwister) throws(UsageError) -> [Split] {
        guard foldCount >= 2 else { throw UsageError("--folds must be at least 2, got \(foldCount)") }
        guard let labels, labels.count == rowCount else { throw UsageError("stratified folds need one class label per row") }
        // Classes numbered in order of first appearance, as scikit-learn encodes them here.
        var code: [Int: Int] = [:]
        let encoded = labels.map { label -> Int in
            if let c = code[label] { return c }
            code[label] = code.count
            return code.count - 1
        }
        let classCount = code.count
        var counts = [Int](repeating: 0, count: classCount)
        for c in encoded { counts[c] += 1 }
        if let smallest = counts.min(), smallest < foldCount {
            throw UsageError("cannot make \(foldCount) stratified folds: the smallest class has only \(smallest) row\(smallest == 1 ? "" : "s") (lower --folds)")
        }
        // Deal the sorted labels round-robin: fold i gets sorted[i], sorted[i + k], ...
        let sorted = encoded.sorted()
        var allocation = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: foldCount)
        for (position, c) in sorted.enumerated() { allocation[position % foldCount][c] += 1 }
        var testFold = [Int](repeating: 0, count: rowCount)
        for c in 0..<classCount {
            var folds: [Int] = []
            for i in 0..<foldCount { folds += [Int](repeating: i, count: allocation[i][c]) }
            if shuffle { rng.shuffle(&folds) }
            var next = 0
            for row in 0..<rowCount where encoded[row] == c {
                testFold[row] = folds[next]
                next += 1
            }
        }
        return Split.kFold(testFold: testFold, foldCount: foldCount)
    }
}

/// Stratified k-fold repeated with different shuffles, as scikit-learn's
/// `RepeatedStratifiedKFold`: one random stream from the seed, drawn on by each repeat in turn.
public struct RepeatedStratifiedKFold: Splitter, Equatable {
    public var foldsPerRepeat: Int
    public var repeats: Int
    public var seed: UInt32

    public init(foldsPerRepeat: Int = 5, repeats: Int = 10, seed: UInt32 = 0) {
        self.foldsPerRepeat = foldsPerRepeat
        self.repeats = repeats
        self.seed = seed
    }

    /// Splits in all: folds × repeats.
    public var foldCount: Int { foldsPerRepeat * repeats }
    public var isStratified: Bool { true }

    public func splits(rowCount: Int, labels: [Int]?) throws(UsageError) -> [Split] {
        guard repeats >= 1 else { throw UsageError("repeats must be at least 1, got \(repeats)") }
        var random = MersenneTwister(seed: seed)
        let folds = StratifiedKFold(foldCount: foldsPerRepeat, shuffle: true, seed: seed)
        var result: [Split] = []
        for _ in 0..<repeats { result += try folds.splits(rowCount: rowCount, labels: labels, random: &random) }
        return result
    }
}
