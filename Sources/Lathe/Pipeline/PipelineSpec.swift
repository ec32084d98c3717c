import Linalg

/// The transformers in front of an estimator, as `--set` selects them: for text, a vectorizer
/// (`vectorizer=tfidf|counts|hashing` and the analyzer keys); for any data, an optional
/// `scaler=standard|minmax|l1|l2|max|none`. Unfitted; `fitTransform` learns on training rows only,
/// so cross-validation refits every step per fold.
public struct PipelineSpec: Sendable, Equatable {
    /// Settings of the text vectorizer (scikit-learn's names).
    public static let textSpecs: [ParameterSpec] = [
        ParameterSpec("vectorizer", .choice(["tfidf", "counts", "hashing"]), default: .string("tfidf"), "how text becomes features"),
        ParameterSpec("analyzer", .choice(TextAnalyzer.Kind.allCases.map(\.rawValue)), default: .string("word"), "terms are words, char n-grams, or char n-grams within words"),
        ParameterSpec("ngram_range", .ints(minimum: 1), default: .ints([1, 1]), "smallest and largest n of the n-grams, as MIN,MAX"),
        ParameterSpec("lowercase", .bool, default: .bool(true), "lower-case text before analysis"),
        ParameterSpec("strip_accents", .choice(["none", "ascii", "unicode"]), default: .string("none"), "remove accents after NFKD"),
        ParameterSpec("stop_words", .choice(["none", "english"]), default: .string("none"), "drop scikit-learn's English stop words"),
        ParameterSpec("min_df", .documentFrequency, default: .int(1), "ignore terms in fewer documents (count, or fraction with a decimal point)"),
        ParameterSpec("max_df", .documentFrequency, default: .double(1.0), "ignore terms in more documents (count, or fraction)"),
        ParameterSpec("max_features", .int(minimum: 0), default: .int(0), "keep only this many most frequent terms; 0 keeps all"),
        ParameterSpec("binary", .bool, default: .bool(false), "record presence instead of counts"),
        ParameterSpec("use_idf", .bool, default: .bool(true), "weigh terms by inverse document frequency (tfidf)"),
        ParameterSpec("smooth_idf", .bool, default: .bool(true), "add one to document frequencies (tfidf)"),
        ParameterSpec("sublinear_tf", .bool, default: .bool(false), "use 1 + ln(tf) (tfidf)"),
        ParameterSpec("norm", .choice(["l2", "l1", "none"]), default: .string("l2"), "row normalization (tfidf, hashing)"),
        ParameterSpec("n_features", .int(minimum: 1), default: .int(1 << 20), "columns of the hashing vectorizer"),
        ParameterSpec("alternate_sign", .bool, default: .bool(true), "signed hashing (hashing)"),
    ]

    /// Settings of the scaling step.
    public static let scalingSpecs: [ParameterSpec] = [
        ParameterSpec("scaler", .choice(["none", "standard", "minmax", "l1", "l2", "max"]), default: .string("none"),
                      "standard or min-max column scaling, or rows to unit l1/l2/max norm"),
        ParameterSpec("with_mean", .bool, default: .bool(true), "centre columns (standard scaler; false for sparse data)"),
        ParameterSpec("with_std", .bool, default: .bool(true), "scale columns to unit variance (standard scaler)"),
    ]

    /// Longest n-gram accepted: beyond this a term is a whole document, and the setting is more
    /// likely a typo than a wish.
    public static let maximumNGram = 100

    /// Every key a pipeline takes.
    public static var allSpecs: [ParameterSpec] { textSpecs + scalingSpecs }

    public var text: Parameters
    public var scaling: Parameters
    /// The text keys given explicitly (an error on numeric data).
    public var assignedTextKeys: [String]

    /// Equal settings; which of them were typed explicitly does not matter.
    public static func == (a: PipelineSpec, b: PipelineSpec) -> Bool { a.text == b.text && a.scaling == b.scaling }

    /// Defaults overridden by the assignments whose keys are pipeline keys.
    /// - Throws: `UsageError` for a bad value or inconsistent settings.
    public init(assignments: [(key: String, value: String)] = []) throws(UsageError) {
        let textNames = Set(Self.textSpecs.map(\.name))
        let textAssignments = assignments.filter { textNames.contains($0.key) }
        text = try Parameters(specs: Self.textSpecs, assignments: textAssignments, estimator: "the text vectorizer")
        scaling = try Parameters(specs: Self.scalingSpecs, assignments: assignments.filter { !textNames.contains($0.key) },
                                 estimator: "the scaler")
        assignedTextKeys = textAssignments.map(\.key)
        _ = try vectorizer()
    }

    init(text: Parameters, scaling: Parameters) {
        self.text = text
        self.scaling = scaling
        assignedTextKeys = []
    }

    /// The text vectorizer these settings describe.
    /// - Throws: `UsageError` for an `ngram_range` that is not `MIN,MAX` with MIN ≤ MAX.
    public func vectorizer() throws(UsageError) -> TextVectorizer {
        guard case let .ints(range) = text["ngram_range"], (1...2).contains(range.count), range[0] <= range[range.count - 1],
              range[range.count - 1] <= Self.maximumNGram else {
            throw UsageError("ngram_range must be MIN,MAX with 1 <= MIN <= MAX <= \(Self.maximumNGram), got \(text["ngram_range"])")
        }
        guard text.int("n_features") <= Int(Int32.max) else {
            throw UsageError("n_features must be at most \(Int32.max) (column indices are 32-bit), got \(text.int("n_features"))")
        }
        let strip = text.string("strip_accents")
        let analyzer = TextAnalyzer(
            kind: TextAnalyzer.Kind(rawValue: text.string("analyzer"))!, lowercase: text.bool("lowercase"),
            stripAccents: TextAnalyzer.AccentStripping(rawValue: strip), englishStopWords: text.string("stop_words") == "english",
            ngramRange: range[0]...range[range.count - 1])
        func frequency(_ name: String) -> DocumentFrequency {
            if case let .int(n) = text[name] { return .count(n) }
            return .fraction(text.double(name))
        }
        let counts = CountVectorizer(analyzer: analyzer, minDF: frequency("min_df"), maxDF: frequency("max_df"),
                                     maxFeatures: text.int("max_features") == 0 ? nil : text.int("max_features"),
                                     binary: text.bool("binary"))
        let norm = RowNorm(rawValue: text.string("norm"))
        switch text.string("vectorizer") {
        case "counts": return .counts(counts)
        case "hashing":
            return .hashing(HashingVectorizer(analyzer: analyzer, featureCount: text.int("n_features"),
                                              alternateSign: text.bool("alternate_sign"), binary: text.bool("binary"), norm: norm))
        default:
            return .tfidf(TfidfVectorizer(counts: counts, useIDF: text.bool("use_idf"), smoothIDF: text.bool("smooth_idf"),
                                          sublinearTF: text.bool("sublinear_tf"), norm: norm))
        }
    }

    /// The scaling step, or nil.
    public var scaler: Scaler? {
        switch scaling.string("scaler") {
        case "standard": return .standard(StandardScaler(withMean: scaling.bool("with_mean"), withStd: scaling.bool("with_std")))
        case "minmax": return .minMax(MinMaxScaler())
        case "none": return nil
        case let norm: return .normalizer(RowNorm(rawValue: norm)!)
        }
    }

    /// Fits every step on `features` and returns the fitted pipeline with the transformed
    /// features.
    /// - Throws: `UsageError` when text keys are set for numeric data; `FitError` from a step.
    public func fitTransform(_ features: Dataset.Features) async throws -> (FittedPipeline, FeatureMatrix) {
        var fitted = FittedPipeline(vectorizer: nil, scaler: nil, spec: self)
        var x: FeatureMatrix
        switch features {
        case let .numeric(m, _):
            if let key = assignedTextKeys.first { throw UsageError("\(key) applies to text data only") }
            x = .dense(m)
        case let .text(documents):
            let (vectorizer, matrix) = try await vectorizer().fitTransform(documents)
            fitted.vectorizer = vectorizer
            x = .sparse(matrix)
        }
        if let scaler {
            let (s, scaled) = try scaler.fitTransform(x)
            fitted.scaler = s
            x = scaled
        }
        return (fitted, x)
    }
}

/// A text vectorizer, unfitted.
public enum TextVectorizer: Sendable, Equatable {
    case counts(CountVectorizer)
    case tfidf(TfidfVectorizer)
    case hashing(HashingVectorizer)

    /// The bag-of-words settings underneath (nil for hashing, which keeps no vocabulary).
    public var countVectorizer: CountVectorizer? {
        switch self {
        case let .counts(v): return v
        case let .tfidf(v): return v.counts
        case .hashing: return nil
        }
    }

    /// Learns from `documents` and returns the fitted vectorizer with their feature matrix.
    public func fitTransform(_ documents: [String]) async throws -> (FittedTextVectorizer, SparseMatrix) {
        switch self {
        case let .counts(v):
            let (f, x) = try await v.fitTransform(documents)
            return (.counts(f), x)
        case let .tfidf(v):
            let (f, x) = try await v.fitTransform(documents)
            return (.tfidf(f), x)
        case let .hashing(v):
            guard !documents.isEmpty else { throw FitError.tooFewSamples(needed: 1, got: 0) }
            return (.hashing(v), try await v.transform(documents))
        }
    }
}

/// A scaling step, unfitted.
public enum Scaler: Sendable, Equatable {
    case standard(StandardScaler)
    case minMax(MinMaxScaler)
    /// Rows to unit norm (scikit-learn's `Normalizer`): nothing to learn.
    case normalizer(RowNorm)

    public func fitTransform(_ x: FeatureMatrix) throws(FitError) -> (FittedScaler, FeatureMatrix) {
        let fitted: FittedScaler
        switch self {
        case let .standard(s): fitted = .standard(try s.fit(x))
        case let .minMax(s): fitted = .minMax(try s.fit(x))
        case let .normalizer(norm):
            guard x.isFinite else { throw .nonFiniteFeatures }
            fitted = .normalizer(norm)
        }
        return (fitted, try fitted.transform(x))
    }
}
