import Linalg

/// The hashing trick (scikit-learn's `HashingVectorizer`): each term goes to column
/// `|murmurhash3_32(term)| mod n_features`, with sign `+1`/`−1` from the hash when
/// `alternateSign`; stateless, so nothing is learned or stored but the settings.
public struct HashingVectorizer: Sendable, Equatable {
    public var analyzer: TextAnalyzer
    public var featureCount: Int
    public var alternateSign: Bool
    public var binary: Bool
    public var norm: RowNorm?

    public init(analyzer: TextAnalyzer = TextAnalyzer(), featureCount: Int = 1 << 20, alternateSign: Bool = true,
                binary: Bool = false, norm: RowNorm? = .l2) {
        self.analyzer = analyzer
        self.featureCount = featureCount
        self.alternateSign = alternateSign
        self.binary = binary
        self.norm = norm
    }

    /// The hashed feature matrix of `documents` (`documents.count × featureCount`). As
    /// scikit-learn, colliding terms of opposite signs leave an explicit zero entry.
    public func transform(_ documents: [String]) async throws -> SparseMatrix {
        let blocks = try await mapChunks(count: documents.count, minimumChunk: 256) { [self] range in
            rows(of: documents, in: range)
        }
        return try normalized(concatenateRows(blocks, columnCount: featureCount))
    }

    /// `transform` on the calling thread, for small batches (a served request) where starting
    /// tasks would cost more than they save, and for callers that cannot suspend.
    public func transformSerially(_ documents: [String]) throws -> SparseMatrix {
        try normalized(concatenateRows([rows(of: documents, in: documents.indices)], columnCount: featureCount))
    }

    private func rows(of documents: [String], in range: Range<Int>) -> RowBlock {
        var sink = HashingSink(featureCount: featureCount, alternateSign: alternateSign)
        var scratch = AnalyzerScratch()
        var rowOffsets = [0]
        for d in range {
            sink.row.startRow()
            analyzer.analyze(documents[d], into: &sink, scratch: &scratch)
            rowOffsets.append(sink.row.ids.count)
        }
        let chunk = CountChunk(table: TermTable(capacity: 1), rowOffsets: rowOffsets, ids: sink.row.ids, counts: sink.row.values)
        return assembleRows(chunk, columnOfId: nil, binary: binary)
    }

    private func normalized(_ x: SparseMatrix) -> SparseMatrix {
        var x = x
        norm?.normalize(&x)
        return x
    }
}

/// Records ±1 per term at its hashed column; repeated columns are summed when the row is
/// assembled, so memory does not grow with `n_features` (up to 2³¹ − 1).
struct HashingSink: TermSink {
    let featureCount: Int
    let alternateSign: Bool
    var row = RowAccumulator.Appending()

    init(featureCount: Int, alternateSign: Bool) {
        self.featureCount = featureCount
        self.alternateSign = alternateSign
    }

    @inline(__always)
    mutating func consume(_ term: UnsafeBufferPointer<UInt8>) {
        let h = murmurHash3x86_32(term)
        // |Int32.min| does not exist; scikit-learn maps it as below.
        let column = h == .min ? (Int(Int32.max) - (featureCount - 1)) % featureCount : Int(h.magnitude) % featureCount
        row.append(alternateSign && h < 0 ? -1 : 1, at: column)
    }
}
