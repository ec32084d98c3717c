import Foundation
@testable import Lathe
import Linalg
import TestSupport
import Testing

/// A gzipped safetensors fixture from `scripts/make_fixtures.py`.
func loadMatrixFixture(_ name: String) throws -> SafeTensors {
    guard let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil) else {
        throw InputError("fixture missing; run scripts/make_fixtures.py", at: name)
    }
    let bytes = try gunzip([UInt8](Data(contentsOf: url)), location: name)
    return try SafeTensors(bytes: bytes, location: name)
}

/// `--set` assignments from a fixture's settings object.
func assignments(_ settings: [String: String]) -> [(key: String, value: String)] {
    settings.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
}

func smsDocuments() throws -> [String] {
    guard case let .text(documents) = try Dataset.load(repositoryRoot.appendingPathComponent("datasets/sms_spam/sms_spam.tsv").path).features else {
        throw InputError("sms_spam is not text")
    }
    return documents
}

/// Checks `x` against the CSR tensors of a fixture: the same structure exactly, values within
/// `tolerance` per entry.
func expectMatrix(_ x: SparseMatrix, equals fixture: SafeTensors, tolerance: Double,
                  sourceLocation: SourceLocation = #_sourceLocation) throws {
    let shape = try JSONDecoder().decode([Int].self, from: Data(try #require(fixture.metadata["shape"]).utf8))
    #expect(x.shape == shape, sourceLocation: sourceLocation)
    let indptr = try #require(fixture.tensors["X.indptr"]?.int64s).map { Int($0) }
    let indices = try #require(fixture.tensors["X.indices"]?.int64s).map { Int32($0) }
    let data = try #require(fixture.tensors["X.data"]?.doubles)
    #expect(x.rowOffsets == indptr, sourceLocation: sourceLocation)
    #expect(x.columnIndices == indices, sourceLocation: sourceLocation)
    #expect(maxAbsoluteDifference(x.values, data) <= tolerance, sourceLocation: sourceLocation)
}

@Suite struct AnalyzerParityTests {
    struct Case: Decodable { var settings: [String: String]; var terms: [[String]] }
    struct File: Decodable { var documents: [String]; var cases: [Case] }

    @Test func termsMatchScikitLearnsAnalyzer() throws {
        let file = try loadFixture("analyzer.json", as: File.self)
        #expect(file.cases.count >= 8)
        for c in file.cases {
            let analyzer = try #require(try PipelineSpec(assignments: assignments(c.settings)).vectorizer().countVectorizer).analyzer
            for (document, expected) in zip(file.documents, c.terms) {
                #expect(analyzer.terms(document) == expected, "\(c.settings) on \(document.debugDescription)")
            }
        }
    }
}

@Suite struct AnalyzerPathTests {
    /// ASCII documents are tokenized 64 bytes at a time from a bit mask; any other document byte
    /// by byte. Both must find the same words, wherever a word starts or ends against the
    /// 64-byte blocks. Appending " é" sends a document down the byte-by-byte path without
    /// changing its words (a one-letter word is not a token).
    @Test func asciiDocumentsTokenizeAsTheByteByBytePathDoes() {
        var rng = SeededGenerator(seed: 11)
        let alphabet = Array("aB_9 .,\n-x")
        let analyzers = [TextAnalyzer(), TextAnalyzer(ngramRange: 1...2), TextAnalyzer(englishStopWords: true)]
        for length in Array(0...140) + [191, 192, 193, 255, 256, 257, 1000] {
            let document = String((0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
            for analyzer in analyzers {
                #expect(analyzer.terms(document) == analyzer.terms(document + " é"), "\(document.debugDescription)")
            }
        }
        // Words that fill a whole block, and words across blocks.
        for document in [String(repeating: "w", count: 64), String(repeating: "w", count: 65), String(repeating: "ab ", count: 43),
                         String(repeating: " ", count: 63) + "xy", String(repeating: "z", count: 63) + " q"] {
            #expect(TextAnalyzer().terms(document) == TextAnalyzer().terms(document + " é"))
        }
        #expect(TextAnalyzer().terms(String(repeating: "w", count: 65)) == [String(repeating: "w", count: 65)])
    }

    /// Eight bytes are classified at once; every ASCII byte, in every position and beside every
    /// other, must be classified as `isWordCharacter` says.
    @Test func eightBytesAtOnceAreClassifiedAsEachByteIs() {
        for v in 0..<128 {
            for neighbour in 0..<128 {
                for k in 0..<8 {
                    var bytes = [UInt8](repeating: UInt8(neighbour), count: 8)
                    bytes[k] = UInt8(v)
                    let word = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << UInt64(8 * $1.offset) }
                    let expected = bytes.enumerated().reduce(UInt64(0)) { $0 | (isWordCharacter(UInt32($1.element)) ? 1 << UInt64($1.offset) : 0) }
                    if asciiWordByteBits(word) != expected {
                        Issue.record("byte \(v) at \(k) among \(neighbour): \(asciiWordByteBits(word)) != \(expected)")
                        return
                    }
                }
            }
        }
    }
}

@Suite struct TermTableTests {
    /// Terms of up to 8 bytes are matched from their slot alone (first bytes, length, hash
    /// bits), longer ones against the arena; near misses on either side of that line — a shared
    /// 8-byte prefix, a trailing NUL, one byte off at the end — must stay distinct, through
    /// several regrowths of the table. With one hash for every term, no term is told apart by
    /// its hash bits, so every comparison after them is exercised.
    @Test(arguments: [false, true])
    func everyTermGetsItsOwnIdAndNearMissesAreAbsent(sameHashForAll: Bool) {
        var rng = SeededGenerator(seed: 5)
        var terms: [[UInt8]] = [[], [0], [0, 0], Array("abcdefgh".utf8), Array("abcdefghi".utf8), Array("abcdefgh\0".utf8),
                                Array("abcdefgi".utf8), Array(repeating: 0x61, count: 300), Array(repeating: 0x61, count: 301),
                                Array(repeating: 0x61, count: 299) + [0x62]]
        var seen = Set(terms)
        while terms.count < (sameHashForAll ? 600 : 5000) {
            let term = (0..<Int(rng.next() % 20)).map { _ in UInt8(rng.next() % 4) + 0x61 }
            if seen.insert(term).inserted { terms.append(term) }
        }
        func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 { sameHashForAll ? 0x1234_5678_9ABC_DEF0 : TermTable.hash(bytes) }
        var table = TermTable(capacity: 1)
        for (i, term) in terms.enumerated() {
            #expect(term.withUnsafeBufferPointer { table.insert($0, hash: hash($0)) } == Int32(i))
        }
        #expect(table.count == terms.count)
        for (i, term) in terms.enumerated() {
            #expect(term.withUnsafeBufferPointer { table.find($0, hash: hash($0)) } == Int32(i))
            #expect(Array(table.term(i)) == term)
            for variant in [term + [0], term + [0x61], term.isEmpty ? [0x7A] : Array(term.dropLast()) + [0x7A]] where !seen.contains(variant) {
                #expect(variant.withUnsafeBufferPointer { table.find($0, hash: hash($0)) } == nil, "\(variant)")
            }
        }
    }
}

@Suite(.serialized) struct VectorizerParityTests {
    /// The issue's bar: vocabulary term for term and index for index, TF-IDF within 1e-12.
    @Test(arguments: ["default", "bigrams"])
    func tfidfMatchesScikitLearnOnSMSSpam(_ name: String) async throws {
        let fixture = try loadMatrixFixture("tfidf_sms_spam_\(name).safetensors.gz")
        let settings = try JSONDecoder().decode([String: String].self, from: Data(try #require(fixture.metadata["config"]).utf8))
        let documents = try smsDocuments()
        let (fitted, x) = try await PipelineSpec(assignments: assignments(settings)).vectorizer().fitTransform(documents)
        guard case let .tfidf(tfidf) = fitted else { Issue.record("not tfidf"); return }
        #expect(tfidf.vocabulary.bytes == fixture.tensors["vocabulary.bytes"]?.bytes)
        #expect(tfidf.vocabulary.offsets == fixture.tensors["vocabulary.offsets"]?.int64s?.map { Int($0) })
        #expect(maxAbsoluteDifference(try #require(tfidf.idf), try #require(fixture.tensors["idf"]?.doubles)) <= 1e-12)
        try expectMatrix(x, equals: fixture, tolerance: 1e-12)
        // transform() of the fitted vectorizer gives the same matrix as fit_transform.
        #expect(try await fitted.transform(documents) == x)
    }

    @Test func hashingMatchesScikitLearnOnSMSSpam() async throws {
        let fixture = try loadMatrixFixture("hashing_sms_spam.safetensors.gz")
        let x = try await HashingVectorizer().transform(try smsDocuments())
        try expectMatrix(x, equals: fixture, tolerance: 1e-12)
    }
}
