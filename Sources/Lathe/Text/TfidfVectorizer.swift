import Foundation
import Linalg

/// TF-IDF (scikit-learn's `TfidfVectorizer`): counts, optionally `1 + ln(tf)`, times
/// `idf = ln((1 + n) / (1 + df)) + 1` (without `smooth_idf`, `ln(n / df) + 1`), rows normalized.
public struct TfidfVectorizer: Sendable, Equatable {
    public var counts: CountVectorizer
    public var useIDF: Bool
    public var smoothIDF: Bool
    public var sublinearTF: Bool
    /// Row normalization; nil leaves rows as they are.
    public var norm: RowNorm?

    public init(counts: CountVectorizer = CountVectorizer(), useIDF: Bool = true, smoothIDF: Bool = true,
                sublinearTF: Bool = false, norm: RowNorm? = .l2) {
        self.counts = counts
        self.useIDF = useIDF
        self.smoothIDF = smoothIDF
        self.sublinearTF = sublinearTF
        self.norm = norm
    }

    /// Learns vocabulary and idf from `documents` and returns them with the TF-IDF matrix.
    /// - Throws: as `CountVectorizer.fitTransform`.
    public func fitTransform(_ documents: [String]) async throws -> (FittedTfidfVectorizer, SparseMatrix) {
        let (vocabulary, x) = try await counts.fitTransform(documents)
        var idf: [Double]? = nil
        if useIDF {
            var documentFrequency = [Int](repeating: 0, count: x.columnCount)
            for c in x.columnIndices { documentFrequency[Int(c)] += 1 }
            let smoothing = smoothIDF ? 1 : 0
            let n = Double(x.rowCount + smoothing)
            idf = documentFrequency.map { log(n / Double($0 + smoothing)) + 1 }
        }
        let fitted = FittedTfidfVectorizer(settings: self, counts: vocabulary, idf: idf)
        return (fitted, fitted.weigh(x))
    }
}

/// A fitted TF-IDF vectorizer: vocabulary and idf weights.
public struct FittedTfidfVectorizer: Sendable, Equatable {
    public let settings: TfidfVectorizer
    public let counts: FittedCountVectorizer
    /// One weight per vocabulary term, or nil without `use_idf`.
    public let idf: [Double]?

    public init(settings: TfidfVectorizer, counts: FittedCountVectorizer, idf: [Double]?) {
        self.settings = settings
        self.counts = counts
        self.idf = idf
    }

    public var vocabulary: Vocabulary { counts.vocabulary }

    /// The TF-IDF matrix of `documents` over the fitted vocabulary.
    public func transform(_ documents: [String]) async throws -> SparseMatrix {
        weigh(try await counts.transform(documents))
    }

    /// `transform` on the calling thread, for small batches (a served request) where starting
    /// tasks would cost more than they save, and for callers that cannot suspend.
    public func transformSerially(_ documents: [String]) throws -> SparseMatrix {
        weigh(try counts.transformSerially(documents))
    }

    func weigh(_ counts: SparseMatrix) -> SparseMatrix {
        var x = counts
        let sublinear = settings.sublinearTF
        let columns = x.columnIndices
        x.withUnsafeMutableValues { v in
            if sublinear {
                for p in v.indices { v[p] = log(v[p]) + 1 }
            }
            if let idf {
                idf.withUnsafeBufferPointer { w in
                    for p in v.indices { v[p] *= w[Int(columns[p])] }
                }
            }
        }
        settings.norm?.normalize(&x)
        return x
    }
}
