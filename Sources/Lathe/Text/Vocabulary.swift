/// The terms of a fitted vectorizer in feature-index order (lexicographic by UTF-8 bytes, which
/// is Python's string order, so indices equal scikit-learn's `vocabulary_`).
public struct Vocabulary: Sendable, Equatable {
    /// The terms' UTF-8 bytes concatenated in index order (tensor `vocabulary.bytes`).
    public let bytes: [UInt8]
    /// `count + 1` offsets into `bytes` (tensor `vocabulary.offsets`).
    public let offsets: [Int]
    /// Term → index lookup; its ids are the feature indices.
    let table: TermTable

    /// Number of terms (features).
    public var count: Int { offsets.count - 1 }

    /// Term `index` as a string.
    public func term(_ index: Int) -> String { String(decoding: bytes[offsets[index]..<offsets[index + 1]], as: UTF8.self) }

    /// Every term in index order.
    public var terms: [String] { (0..<count).map(term) }

    /// The feature index of `term`, or nil.
    public func index(of term: String) -> Int? {
        var copy = Array(term.utf8)
        return copy.withUnsafeMutableBufferPointer { table.find(UnsafeBufferPointer($0)) }.map(Int.init)
    }

    /// A vocabulary from terms already in lexicographic order (built by the vectorizers).
    init(orderedTable table: TermTable) {
        self.table = table
        self.bytes = table.arena
        self.offsets = table.offsets
    }

    /// A vocabulary read back from tensors; checks that the offsets are well formed, the bytes
    /// are UTF-8 and the terms strictly ascend (so they are distinct and in index order).
    /// - Throws: `InputError` at `location` describing the first problem.
    public init(bytes: [UInt8], offsets: [Int], location: String) throws(InputError) {
        guard offsets.first == 0, offsets.last == bytes.count, offsets.count >= 2 else {
            throw InputError("vocabulary.offsets must start at 0, end at the byte count and hold at least one term", at: location)
        }
        var table = TermTable(capacity: offsets.count - 1)
        var previous: ArraySlice<UInt8>? = nil
        for i in 0..<(offsets.count - 1) {
            guard offsets[i] <= offsets[i + 1] else { throw InputError("vocabulary.offsets decrease at term \(i)", at: location) }
            let term = bytes[offsets[i]..<offsets[i + 1]]
            guard String(validating: term, as: UTF8.self) != nil else {
                throw InputError("vocabulary term \(i) is not valid UTF-8", at: location)
            }
            if let previous, !previous.lexicographicallyPrecedes(term) {
                throw InputError("vocabulary terms are not distinct and in ascending order at term \(i)", at: location)
            }
            previous = term
            var copy = Array(term)
            _ = copy.withUnsafeMutableBufferPointer { table.insert(UnsafeBufferPointer($0)) }
        }
        self.init(orderedTable: table)
    }

    public static func == (a: Vocabulary, b: Vocabulary) -> Bool { a.bytes == b.bytes && a.offsets == b.offsets }

    /// The vocabulary as tensors.
    func tensors() -> [String: Tensor] {
        ["vocabulary.bytes": Tensor(bytes, shape: [bytes.count]),
         "vocabulary.offsets": Tensor(offsets.map(Int64.init), shape: [offsets.count])]
    }
}
