import Linalg

/// A document-frequency bound (`min_df`, `max_df`): an absolute number of documents, or a
/// fraction of them, as scikit-learn distinguishes `2` from `0.5`.
public enum DocumentFrequency: Sendable, Equatable, CustomStringConvertible {
    case count(Int)
    case fraction(Double)

    /// The bound in documents for a corpus of `documentCount`.
    func documents(of documentCount: Int) -> Double {
        switch self {
        case let .count(n): return Double(n)
        case let .fraction(f): return f * Double(documentCount)
        }
    }

    public var description: String {
        switch self {
        case let .count(n): return String(n)
        case let .fraction(f): return String(f)
        }
    }
}

/// Bag of words (scikit-learn's `CountVectorizer`): term counts per document, columns in
/// lexicographic term order.
public struct CountVectorizer: Sendable, Equatable {
    public var analyzer: TextAnalyzer
    /// Keep terms in at least this many documents.
    public var minDF: DocumentFrequency
    /// Keep terms in at most this many documents.
    public var maxDF: DocumentFrequency
    /// Keep only the most frequent terms (by total count; ties to the earlier term); nil keeps all.
    public var maxFeatures: Int?
    /// Record presence (1) instead of counts.
    public var binary: Bool

    public init(analyzer: TextAnalyzer = TextAnalyzer(), minDF: DocumentFrequency = .count(1),
                maxDF: DocumentFrequency = .fraction(1), maxFeatures: Int? = nil, binary: Bool = false) {
        self.analyzer = analyzer
        self.minDF = minDF
        self.maxDF = maxDF
        self.maxFeatures = maxFeatures
        self.binary = binary
    }

    /// Learns the vocabulary of `documents` and returns it with their count matrix
    /// (`documents.count × vocabulary.count`). Documents are analysed and counted in parallel.
    /// - Throws: `FitError.emptyVocabulary` when no term survives, `.tooFewSamples` for no documents.
    public func fitTransform(_ documents: [String]) async throws -> (FittedCountVectorizer, SparseMatrix) {
        guard !documents.isEmpty else { throw FitError.tooFewSamples(needed: 1, got: 0) }
        let analyzer = self.analyzer
        let chunks = try await mapChunks(count: documents.count, minimumChunk: 256) { range in
            var sink = CountingSink(table: TermTable(capacity: 1 << 14))
            var scratch = AnalyzerScratch()
            var rowOffsets = [0]
            rowOffsets.reserveCapacity(range.count + 1)
            for d in range {
                sink.row.startRow()
                analyzer.analyze(documents[d], into: &sink, scratch: &scratch)
                rowOffsets.append(sink.row.ids.count)
            }
            return CountChunk(table: sink.table, rowOffsets: rowOffsets, ids: sink.row.ids, counts: sink.row.values)
        }

        // One table for the corpus: chunk 0's ids stay, later chunks' ids are mapped into it.
        var table = chunks[0].table
        var idMaps: [[Int32]] = [[]]
        for chunk in chunks.dropFirst() {
            idMaps.append((0..<chunk.table.count).map { local in chunk.table.withTerm(local) { table.insert($0) } })
        }
        let termCount = table.count
        var documentFrequency = [Int](repeating: 0, count: termCount)
        var totalCount = [Double](repeating: 0, count: termCount)
        for (k, chunk) in chunks.enumerated() {
            for (p, local) in chunk.ids.enumerated() {
                let id = k == 0 ? Int(local) : Int(idMaps[k][Int(local)])
                documentFrequency[id] += 1
                totalCount[id] += binary ? 1 : chunk.counts[p]
            }
        }

        let n = documents.count
        let high = maxDF.documents(of: n)
        let low = minDF.documents(of: n)
        guard high >= low else {
            throw FitError.emptyVocabulary("max_df=\(maxDF) corresponds to fewer documents than min_df=\(minDF)")
        }
        var kept = table.idsInLexicographicOrder().filter {
            Double(documentFrequency[$0]) <= high && Double(documentFrequency[$0]) >= low
        }
        if let limit = maxFeatures, kept.count > limit {
            // Stable: equal totals keep lexicographic order, so the earlier term wins a tie.
            let ranked = kept.indices.sorted { a, b in
                let (ta, tb) = (totalCount[kept[a]], totalCount[kept[b]])
                return ta != tb ? ta > tb : a < b
            }
            kept = ranked.prefix(limit).sorted().map { kept[$0] }
        }
        guard !kept.isEmpty else {
            throw FitError.emptyVocabulary(termCount == 0
                ? "the documents contain no terms (are they empty, or all stop words?)"
                : "after pruning, no terms remain; try a lower min_df or a higher max_df")
        }
        var column = [Int32](repeating: -1, count: termCount)
        var ordered = TermTable(capacity: kept.count)
        for (j, id) in kept.enumerated() {
            column[id] = Int32(j)
            _ = table.withTerm(id) { ordered.insert($0) }
        }
        let fitted = FittedCountVectorizer(settings: self, vocabulary: Vocabulary(orderedTable: ordered))

        // Each chunk's local ids straight to output columns.
        let columnMaps = chunks.indices.map { k in k == 0 ? column : idMaps[k].map { column[Int($0)] } }
        let binary = self.binary
        let parts = try await mapChunks(count: chunks.count) { range in
            range.map { k in assembleRows(chunks[k], columnOfId: columnMaps[k], binary: binary) }
        }.flatMap { $0 }
        return (fitted, try concatenateRows(parts, columnCount: kept.count))
    }
}

/// A fitted bag of words: its settings and vocabulary.
public struct FittedCountVectorizer: Sendable, Equatable {
    public let settings: CountVectorizer
    public let vocabulary: Vocabulary

    public init(settings: CountVectorizer, vocabulary: Vocabulary) {
        self.settings = settings
        self.vocabulary = vocabulary
    }

    /// Counts the vocabulary's terms in `documents` (unknown terms are ignored).
    public func transform(_ documents: [String]) async throws -> SparseMatrix {
        let parts = try await mapChunks(count: documents.count, minimumChunk: 256) { [self] range in
            rows(of: documents, in: range)
        }
        return try concatenateRows(parts, columnCount: vocabulary.count)
    }

    /// `transform` on the calling thread, for small batches (a served request) where starting
    /// tasks would cost more than they save, and for callers that cannot suspend.
    public func transformSerially(_ documents: [String]) throws -> SparseMatrix {
        try concatenateRows([rows(of: documents, in: documents.indices)], columnCount: vocabulary.count)
    }

    private func rows(of documents: [String], in range: Range<Int>) -> RowBlock {
        var sink = VocabularySink(table: vocabulary.table)
        var scratch = AnalyzerScratch()
        var rowOffsets = [0]
        for d in range {
            sink.row.startRow()
            settings.analyzer.analyze(documents[d], into: &sink, scratch: &scratch)
            rowOffsets.append(sink.row.ids.count)
        }
        let chunk = CountChunk(table: TermTable(capacity: 1), rowOffsets: rowOffsets, ids: sink.row.ids, counts: sink.row.values)
        return assembleRows(chunk, columnOfId: nil, binary: settings.binary)
    }
}

/// What one worker counted: its own term table and, per document, (local id, count) entries.
struct CountChunk: Sendable {
    var table: TermTable
    var rowOffsets: [Int]
    var ids: [Int32]
    var counts: [Double]
}

/// Sums values per column within the current row without a per-document dictionary:
/// `lastPosition[column]` remembers where the column was last stored, and a position at or after
/// the row's start means it already has an entry in this row.
struct RowAccumulator {
    var ids: [Int32] = []
    var values: [Double] = []
    var lastPosition: [Int]
    var rowStart = 0

    init(columnCount: Int) { lastPosition = [Int](repeating: -1, count: columnCount) }

    mutating func startRow() { rowStart = ids.count }

    /// Makes room for one more column id (for vocabularies that grow while counting).
    mutating func addColumn() { lastPosition.append(-1) }

    /// A row builder that only appends (column, value) pairs; `assembleRows` sums repeats.
    struct Appending {
        var ids: [Int32] = []
        var values: [Double] = []
        mutating func startRow() {}
        @inline(__always) mutating func append(_ value: Double, at column: Int) {
            ids.append(Int32(truncatingIfNeeded: column))
            values.append(value)
        }
    }

    @inline(__always)
    mutating func add(_ value: Double, at column: Int) {
        let p = lastPosition[column]
        if p >= rowStart {
            values[p] += value
        } else {
            lastPosition[column] = ids.count
            ids.append(Int32(column))
            values.append(value)
        }
    }
}

/// Counts term occurrences per document, adding new terms to its table.
struct CountingSink: TermSink {
    var table: TermTable
    var row = RowAccumulator(columnCount: 0)

    init(table: TermTable) { self.table = table }

    @inline(__always)
    mutating func consume(_ term: UnsafeBufferPointer<UInt8>) {
        let id = Int(table.insert(term))
        if id == row.lastPosition.count { row.addColumn() }
        row.add(1, at: id)
    }
}

/// Records each occurrence of a fitted vocabulary's terms, skipping unknown ones; repeats are
/// summed when the row is assembled. Unlike `CountingSink` it keeps no per-term state, so a
/// small batch does not pay for clearing an array the size of the vocabulary, nor a cache miss
/// into it per token.
struct VocabularySink: TermSink {
    let table: TermTable
    var row = RowAccumulator.Appending()

    @inline(__always)
    mutating func consume(_ term: UnsafeBufferPointer<UInt8>) {
        if let id = table.find(term) { row.append(1, at: Int(id)) }
    }
}

/// CSR pieces of one chunk's rows: columns mapped, dropped where negative, sorted per row.
struct RowBlock: Sendable {
    var rowOffsets: [Int]
    var columns: [Int32]
    var values: [Double]
}

/// - Parameter columnOfId: output column of each id, -1 to drop it; nil when ids are columns.
func assembleRows(_ chunk: CountChunk, columnOfId: [Int32]?, binary: Bool) -> RowBlock {
    let rowCount = chunk.rowOffsets.count - 1
    // At most one entry per recorded occurrence; trimmed to what the rows hold at the end.
    var columns = [Int32](repeating: 0, count: chunk.ids.count)
    var values = [Double](repeating: 0, count: chunk.ids.count)
    var rowOffsets = [Int](repeating: 0, count: rowCount + 1)
    var written = 0
    // (column << 32 | position) keys sort a row by column with a plain integer sort.
    var keys: [UInt64] = []
    let mapping = columnOfId ?? []
    chunk.ids.withUnsafeBufferPointer { ids in
        chunk.counts.withUnsafeBufferPointer { counts in
            mapping.withUnsafeBufferPointer { columnOf in
                columns.withUnsafeMutableBufferPointer { out in
                    values.withUnsafeMutableBufferPointer { outValues in
                        for r in 0..<rowCount {
                            keys.removeAll(keepingCapacity: true)
                            for p in chunk.rowOffsets[r]..<chunk.rowOffsets[r + 1] {
                                let c = columnOfId == nil ? ids[p] : columnOf[Int(ids[p])]
                                if c >= 0 { keys.append(UInt64(UInt32(c)) << 32 | UInt64(p)) }
                            }
                            sortRowKeys(&keys)
                            let rowStart = written
                            for key in keys {
                                let column = Int32(truncatingIfNeeded: key >> 32)
                                let value = counts[Int(key & 0xFFFF_FFFF)]
                                // Repeated columns (each occurrence recorded on its own) are summed.
                                if written > rowStart, out[written - 1] == column {
                                    outValues[written - 1] += value
                                } else {
                                    out[written] = column
                                    outValues[written] = value
                                    written += 1
                                }
                            }
                            if binary {
                                for p in rowStart..<written { outValues[p] = 1 }
                            }
                            rowOffsets[r + 1] = written
                        }
                    }
                }
            }
        }
    }
    columns.removeLast(columns.count - written)
    values.removeLast(values.count - written)
    return RowBlock(rowOffsets: rowOffsets, columns: columns, values: values)
}

/// Sorts one row's keys: insertion sort for the few dozen entries of a typical document, where
/// the general sort's setup costs more than the sorting.
@inline(__always)
private func sortRowKeys(_ keys: inout [UInt64]) {
    guard keys.count <= 32 else { keys.sort(); return }
    keys.withUnsafeMutableBufferPointer { k in
        for i in k.indices.dropFirst() {
            let key = k[i]
            var j = i
            while j > 0, k[j - 1] > key {
                k[j] = k[j - 1]
                j -= 1
            }
            k[j] = key
        }
    }
}

func concatenateRows(_ blocks: [RowBlock], columnCount: Int) throws -> SparseMatrix {
    if blocks.count == 1 {
        return try SparseMatrix(rowCount: blocks[0].rowOffsets.count - 1, columnCount: columnCount,
                                rowOffsets: blocks[0].rowOffsets, columnIndices: blocks[0].columns, values: blocks[0].values)
    }
    var rowOffsets = [0]
    var columns: [Int32] = []
    var values: [Double] = []
    let total = blocks.reduce(0) { $0 + $1.columns.count }
    columns.reserveCapacity(total)
    values.reserveCapacity(total)
    for block in blocks {
        let base = columns.count
        rowOffsets.append(contentsOf: block.rowOffsets.dropFirst().lazy.map { $0 + base })
        columns.append(contentsOf: block.columns)
        values.append(contentsOf: block.values)
    }
    return try SparseMatrix(rowCount: rowOffsets.count - 1, columnCount: columnCount,
                            rowOffsets: rowOffsets, columnIndices: columns, values: values)
}
