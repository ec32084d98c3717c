import Foundation
@testable import Lathe
import Linalg
import TestSupport
import Testing

@Suite struct ScalerParityTests {
    struct Fitted: Decodable { var transformed: [[Double]]; var mean_: [Double]?; var scale_: [Double]?; var min_: [Double]? }
    struct Sparse: Decodable { var documents: Int; var columns: Int; var scale_: [Double]; var transformed_row0: [Double] }
    struct File: Decodable {
        var standard: Fitted
        var standard_no_mean: Fitted
        var minmax: Fitted
        var normalizer_l1: Fitted
        var normalizer_l2: Fitted
        var normalizer_max: Fitted
        var sparse_counts: Sparse
    }

    func transformedHead(_ scaler: Scaler, _ x: Matrix) throws -> ([Double], FittedScaler) {
        let (fitted, _) = try scaler.fitTransform(.dense(x))
        guard case let .dense(head) = try fitted.transform(.dense(x.rows(Array(0..<5)))) else { return ([], fitted) }
        return (head.elements, fitted)
    }

    @Test func denseScalersMatchScikitLearn() throws {
        let file = try loadFixture("scalers.json", as: File.self)
        let (x, _) = try loadNumeric("diabetes")
        let cases: [(Scaler, Fitted)] = [
            (.standard(StandardScaler()), file.standard),
            (.standard(StandardScaler(withMean: false)), file.standard_no_mean),
            (.minMax(MinMaxScaler()), file.minmax),
            (.normalizer(.l1), file.normalizer_l1), (.normalizer(.l2), file.normalizer_l2), (.normalizer(.max), file.normalizer_max),
        ]
        for (scaler, expected) in cases {
            let (head, fitted) = try transformedHead(scaler, x)
            #expect(maxAbsoluteDifference(head, expected.transformed.flatMap { $0 }) < 1e-12, "\(scaler)")
            switch fitted {
            case let .standard(s):
                if let mean = expected.mean_, s.settings.withMean { #expect(maxRelativeDifference(s.mean ?? [], mean) < 1e-13) }
                #expect(maxRelativeDifference(s.scale ?? [], try #require(expected.scale_)) < 1e-13)
            case let .minMax(s):
                #expect(maxRelativeDifference(s.scale, try #require(expected.scale_)) < 1e-13)
                #expect(maxAbsoluteDifference(s.offset, try #require(expected.min_)) < 1e-13)
            case .normalizer: break
            }
        }
    }

    @Test func sparseStandardScalerMatchesScikitLearn() async throws {
        let file = try loadFixture("scalers.json", as: File.self).sparse_counts
        let documents = Array(try smsDocuments().prefix(file.documents))
        let (_, counts) = try await CountVectorizer().fitTransform(documents)
        #expect(counts.columnCount == file.columns)
        let (fitted, scaled) = try Scaler.standard(StandardScaler(withMean: false)).fitTransform(.sparse(counts))
        guard case let .standard(s) = fitted, case let .sparse(m) = scaled else { Issue.record("wrong kinds"); return }
        #expect(maxRelativeDifference(s.scale ?? [], file.scale_) < 1e-12)
        #expect(maxAbsoluteDifference(m.rows([0]).dense().elements, file.transformed_row0) < 1e-12)
        #expect(throws: FitError.self) { try StandardScaler().fit(.sparse(counts)) }
        #expect(throws: FitError.self) { try MinMaxScaler().fit(.sparse(counts)) }
    }

    @Test func constantColumnsKeepUnitScale() throws {
        let x = try Matrix(rows: [[1, 5], [2, 5], [3, 5]])
        let fitted = try StandardScaler().fit(.dense(x))
        #expect(fitted.scale?[1] == 1)
        let minmax = try MinMaxScaler().fit(.dense(x))
        #expect(minmax.scale[1] == 1)
    }
}

@Suite struct VectorizerBehaviourTests {
    @Test func emptyVocabularyIsAClearError() async {
        await #expect(throws: FitError.self) { try await CountVectorizer().fitTransform(["", "  ", "a b c"]) }
        await #expect(throws: FitError.self) { try await CountVectorizer(minDF: .count(5)).fitTransform(["aa bb", "aa"]) }
        await #expect(throws: FitError.self) { try await CountVectorizer().fitTransform([]) }
    }

    @Test func pruningAndMaxFeaturesFollowScikitLearn() async throws {
        let documents = ["apple banana apple", "banana cherry", "cherry cherry date", "apple date"]
        // max_df=0.5 keeps terms in at most 2 of 4 documents; min_df=2 those in at least 2.
        let (fitted, _) = try await CountVectorizer(minDF: .count(2), maxDF: .fraction(0.5)).fitTransform(documents)
        #expect(fitted.vocabulary.terms == ["apple", "banana", "cherry", "date"])
        let (top, x) = try await CountVectorizer(maxFeatures: 2).fitTransform(documents)
        // Totals: apple 3, cherry 3, banana 2, date 2: the two most frequent, in index order.
        #expect(top.vocabulary.terms == ["apple", "cherry"])
        #expect(x.dense().elements == [2, 0, 0, 1, 0, 2, 1, 0])
        let (binary, b) = try await CountVectorizer(binary: true).fitTransform(documents)
        #expect(binary.vocabulary.count == 4)
        #expect(b.values.allSatisfy { $0 == 1 })
    }

    @Test func unknownTermsAreIgnoredAtTransform() async throws {
        let (fitted, _) = try await TfidfVectorizer().fitTransform(["red green", "green blue"])
        let x = try await fitted.transform(["purple", "red red purple"])
        #expect(x.rowOffsets == [0, 0, 1])
        #expect(x.values == [1])
    }

    @Test func parallelAndSerialCountsAgree() async throws {
        let documents = try smsDocuments()
        let (a, x) = try await CountVectorizer().fitTransform(documents)
        // One chunk per document group: the merge must not depend on how work was split.
        let (b, y) = try await CountVectorizer().fitTransform(Array(documents.prefix(255)) + Array(documents.dropFirst(255)))
        #expect(a == b && x == y)
        let single = try await CountVectorizer().fitTransform(Array(documents.prefix(200)))
        #expect(single.1.rowCount == 200)
    }

    /// `transformSerially` (what a served request uses) gives the matrix `transform` gives,
    /// for every kind of vectorizer, on enough documents that `transform` splits the work.
    @Test func serialTransformsEqualParallelOnes() async throws {
        let documents = try smsDocuments()
        let (counts, _) = try await CountVectorizer().fitTransform(documents)
        let (tfidf, _) = try await TfidfVectorizer().fitTransform(documents)
        let vectorizers: [FittedTextVectorizer] = [.counts(counts), .tfidf(tfidf), .hashing(HashingVectorizer(featureCount: 1 << 12))]
        for (k, vectorizer) in vectorizers.enumerated() {
            let parallel = try await vectorizer.transform(documents)
            #expect(try vectorizer.transformSerially(documents) == parallel, "vectorizer \(k)")
            #expect(parallel.rowCount == documents.count && parallel.values.contains { $0 != 0 })
        }
    }

    @Test func settingsThatWouldHangOrExhaustMemoryAreUsageErrors() async throws {
        #expect(throws: UsageError.self) { try PipelineSpec(assignments: [("ngram_range", "1,1000000000000000")]) }
        #expect(throws: UsageError.self) { try PipelineSpec(assignments: [("vectorizer", "hashing"), ("n_features", "4611686018427387904")]) }
        // The largest hashing width works without memory proportional to it.
        let x = try await HashingVectorizer(featureCount: Int(Int32.max)).transform(["a big word list", "word word"])
        #expect(x.columnCount == Int(Int32.max) && x.rowOffsets == [0, 3, 4])
        #expect(abs(x.values[3]) == 1)  // "word" twice, l2-normalized (sign from the hash)
    }

    @Test func scalerThatKeepsNothingPassesDataThrough() async throws {
        let spec = try PipelineSpec(assignments: [("scaler", "standard"), ("with_mean", "false"), ("with_std", "false")])
        let (fitted, x) = try await spec.fitTransform(.text(["aa bb", "bb cc"]))
        #expect(x.columnCount == 3)
        let copy = try FittedPipeline(metadata: fitted.metadata, tensors: fitted.tensors(), location: "m")
        #expect(try await copy.transform(.text(["cc"])).columnCount == 3)
    }

    @Test func murmurHashMatchesReferenceValues() {
        // scikit-learn's murmurhash3_32(key, seed=0) for these keys.
        let expected: [(String, Int32)] = [("", 0), ("a", 1_009_084_850), ("ab", -1_681_926_305), ("abc", -1_277_324_294),
                                           ("abcd", 1_139_631_978), ("hello world", 1_586_663_183), ("café", 605_818_632)]
        for (key, hash) in expected {
            var bytes = Array(key.utf8)
            #expect(bytes.withUnsafeMutableBufferPointer { murmurHash3x86_32(UnsafeBufferPointer($0)) } == hash, "\(key)")
        }
    }
}

@Suite struct JSONParserTests {
    @Test func numbersKeepTheirForm() throws {
        #expect(try JSONValue.parse(Data("[1, 1.0, -0, 2e3, 9223372036854775807, 9223372036854775808]".utf8)) ==
                .array([.integer(1), .number(1), .integer(0), .number(2000), .integer(.max), .number(9_223_372_036_854_775_808)]))
    }

    @Test func stringsAndEscapes() throws {
        #expect(try JSONValue.parse(Data(#"{"a":"x\"\\\/\n\u00e9\ud83d\ude00"}"#.utf8)) == .object(["a": .string("x\"\\/\né😀")]))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\u{01}\"", "\"\\ud800\"", "tru", "[1] x", "{\"a\":1,}"])
    func malformedTextIsRejected(_ text: String) {
        #expect(throws: InputError.self) { try JSONValue.parse(Data(text.utf8)) }
    }

    /// Text survives writing and parsing: escapes, control characters, non-ASCII, invalid
    /// UTF-8 refused; plain runs and escaped runs in the same string.
    @Test func textRoundTrips() throws {
        let strings = ["", "plain", "tab\there", "quote \" and \\ backslash", "\u{01}\u{1F}control", "é and 😀 and 中文", "end\\"]
        let value = JSONValue.object(["s": .array(strings.map { .string($0) }), "k\"ey": .number(0.1)])
        #expect(try JSONValue.parse(value.jsonBytes) == value)
        #expect(value.jsonText == String(decoding: value.jsonBytes, as: UTF8.self))
        #expect(JSONValue.string("a\u{01}b").jsonText == #""a\u0001b""#)
        #expect(throws: InputError.self) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
    }

    /// Plain runs are scanned eight bytes at a time: a quote, an escape or a control character
    /// must be found at every position within and across the words, next to bytes that differ
    /// from them by one or only in the high bit (¢ is C2 A2, Ü is C3 9C, 0xA2 and 0x9C being a
    /// quote and a backslash with the high bit set).
    @Test func plainRunsEndAtTheirFirstSpecialByteWherever() throws {
        let filler = Array(" !#[]~\u{7F}a¢Ü")
        for length in 0..<26 {
            let text = String((0..<length).map { filler[$0 % filler.count] })
            let plain = Array(text.utf8)
            #expect(try JSONValue.parse([0x22] + plain + [0x22]) == .string(text))
            #expect(try JSONValue.parse([0x22] + plain + Array(#"\n"#.utf8) + plain + [0x22]) == .string(text + "\n" + text))
            #expect(try JSONValue.parse([0x22] + plain + [0x22] + Array(" ".utf8)) == .string(text))
            #expect(throws: InputError.self) { try JSONValue.parse([0x22] + plain + [0x1F] + plain + [0x22]) }
            #expect(throws: InputError.self) { try JSONValue.parse([0x22] + plain + [0x22, 0x22]) }
        }
    }

    /// Numbers are written as Swift's `description` spells them (shortest round-trip digits,
    /// the same as Python's `repr` but for the exponent's form), with no String made for each.
    @Test func numbersAreWrittenAsTheirDescription() throws {
        let numbers: [Double] = [0, -0.0, 0.1, 1.0 / 3, 0.9601789531331779, 1e-05, 123456789012345680, 1e16, 5e-324,
                                 .greatestFiniteMagnitude, -2.5e-300, 4096]
        for d in numbers {
            #expect(String(decoding: JSONValue.number(d).jsonBytes, as: UTF8.self) == d.description)
            #expect(try JSONValue.parse(JSONValue.number(d).jsonBytes) == .number(d))
        }
        #expect(JSONValue.array([.number(.infinity), .number(.nan)]).jsonBytes == Array("[null,null]".utf8))
    }

    /// A batch writes each row as the row's `Prediction` JSON would be, byte for byte.
    @Test func predictionBatchesWriteTheirJSONDirectly() throws {
        let classes = ["spam", "b\"q", "ham", "é"]
        let p = try Matrix(rowCount: 2, columnCount: 4, elements: [0.1, 0.2, 0.3, 0.4, 0.25, 0.25, 0.5, 0])
        let binary = try Matrix(rowCount: 2, columnCount: 1, elements: [-1.5, 2])
        let batches = [
            PredictionBatch(classes: [], predicted: [], scores: .values([151.25, .nan, -0.0])),
            PredictionBatch(classes: classes, predicted: [3, 2], scores: .probabilities(p)),
            PredictionBatch(classes: classes, predicted: [0, 1], scores: .decision(p)),
            PredictionBatch(classes: ["ham", "spam"], predicted: [0, 1], scores: .decision(binary)),
        ]
        for batch in batches {
            for i in 0..<batch.count {
                var out: [UInt8] = []
                batch.writeJSON(row: i, to: &out)
                #expect(out == batch.prediction(at: i).json.jsonBytes, "\(batch.scores) row \(i)")
            }
        }
        #expect(batches[3].scoreColumns == ["spam"])
        #expect(batches[1].prediction(at: 0) == .label("é", probabilities: ["spam": 0.1, "b\"q": 0.2, "ham": 0.3, "é": 0.4], decision: nil))
    }

    @Test func deepNestingIsRejectedNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: InputError.self) { try JSONValue.parse(Data(deep.utf8)) }
    }
}

@Suite struct PipelinePersistenceTests {
    /// Settings survive the model file: a fraction stays a fraction (`max_df=1.0` is every
    /// document, `max_df=1` only one).
    @Test func pipelineSettingsRoundTrip() async throws {
        for assignments in [[("max_df", "1.0")], [("max_df", "1"), ("min_df", "0")], [("ngram_range", "1,2"), ("vectorizer", "counts")],
                            [("vectorizer", "hashing"), ("n_features", "64"), ("scaler", "standard"), ("with_mean", "false")]] {
            let spec = try PipelineSpec(assignments: assignments)
            let documents = ["the cat sat", "the dog sat down", "a cat and a dog"]
            let (fitted, x) = try await spec.fitTransform(.text(documents))
            let copy = try FittedPipeline(metadata: try JSONValue.parse(Data(fitted.metadata.jsonText.utf8)),
                                          tensors: fitted.tensors(), location: "m")
            #expect(copy == fitted, "\(assignments)")
            #expect(try await copy.transform(.text(documents)) == x)
        }
    }

    @Test func hostilePipelineMetadataIsAnInputError() async throws {
        let (fitted, _) = try await PipelineSpec().fitTransform(.text(["aa bb", "bb cc"]))
        var tensors = fitted.tensors()
        for metadata in ["{}", "[{\"step\":\"pca\",\"params\":{}}]", "[{\"step\":\"tfidf\",\"params\":{\"ngram_range\":[3,1]}}]",
                         "[{\"step\":\"tfidf\",\"params\":{\"vectorizer\":\"counts\"}}]", "[{\"step\":\"tfidf\"}]",
                         "[{\"step\":\"tfidf\",\"params\":{}},{\"step\":\"tfidf\",\"params\":{}}]",
                         "[{\"step\":\"scaler\",\"params\":{}},{\"step\":\"scaler\",\"params\":{}}]"] {
            #expect(throws: InputError.self) { try FittedPipeline(metadata: try JSONValue.parse(Data(metadata.utf8)), tensors: tensors, location: "m") }
        }
        tensors["vocabulary.offsets"] = Tensor([0, 2, 1, 6].map(Int64.init), shape: [4])
        #expect(throws: InputError.self) { try FittedPipeline(metadata: fitted.metadata, tensors: tensors, location: "m") }
        tensors["vocabulary.offsets"] = Tensor([0, 2, 4, 7].map(Int64.init), shape: [4])
        #expect(throws: InputError.self) { try FittedPipeline(metadata: fitted.metadata, tensors: tensors, location: "m") }
        tensors = fitted.tensors()
        tensors["idf"] = Tensor([1.0], shape: [1])
        #expect(throws: InputError.self) { try FittedPipeline(metadata: fitted.metadata, tensors: tensors, location: "m") }
    }
}
