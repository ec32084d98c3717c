import Linalg

/// A fitted text vectorizer.
public enum FittedTextVectorizer: Sendable, Equatable {
    case counts(FittedCountVectorizer)
    case tfidf(FittedTfidfVectorizer)
    /// Stateless: the settings are all there is.
    case hashing(HashingVectorizer)

    /// Columns of the matrices it produces.
    public var featureCount: Int {
        switch self {
        case let .counts(v): return v.vocabulary.count
        case let .tfidf(v): return v.vocabulary.count
        case let .hashing(v): return v.featureCount
        }
    }

    public var vocabulary: Vocabulary? {
        switch self {
        case let .counts(v): return v.vocabulary
        case let .tfidf(v): return v.vocabulary
        case .hashing: return nil
        }
    }

    public func transform(_ documents: [String]) async throws -> SparseMatrix {
        switch self {
        case let .counts(v): return try await v.transform(documents)
        case let .tfidf(v): return try await v.transform(documents)
        case let .hashing(v): return try await v.transform(documents)
        }
    }

    /// `transform` on the calling thread (see `FittedCountVectorizer.transformSerially`).
    public func transformSerially(_ documents: [String]) throws -> SparseMatrix {
        switch self {
        case let .counts(v): return try v.transformSerially(documents)
        case let .tfidf(v): return try v.transformSerially(documents)
        case let .hashing(v): return try v.transformSerially(documents)
        }
    }

    /// `vocabulary.bytes`, `vocabulary.offsets` and `idf`, as each kind has them.
    public func tensors() -> [String: Tensor] {
        var out = vocabulary?.tensors() ?? [:]
        if case let .tfidf(v) = self, let idf = v.idf { out["idf"] = Tensor(idf, shape: [idf.count]) }
        return out
    }
}

/// A fitted scaling step.
public enum FittedScaler: Sendable, Equatable {
    case standard(FittedStandardScaler)
    case minMax(FittedMinMaxScaler)
    case normalizer(RowNorm)

    public func transform(_ x: FeatureMatrix) throws(FitError) -> FeatureMatrix {
        switch self {
        case let .standard(s): return try s.transform(x)
        case let .minMax(s): return try s.transform(x)
        case let .normalizer(norm):
            guard x.isFinite else { throw .nonFiniteFeatures }
            switch x {
            case var .dense(m):
                norm.normalize(&m)
                return .dense(m)
            case var .sparse(s):
                norm.normalize(&s)
                return .sparse(s)
            }
        }
    }

    /// Its width when it has learned one.
    var featureCount: Int? {
        switch self {
        case let .standard(s): return s.featureCount
        case let .minMax(s): return s.scale.count as Int?
        case .normalizer: return nil
        }
    }

    /// `scaler.mean`, `scaler.scale`, `scaler.min`, as each kind has them.
    public func tensors() -> [String: Tensor] {
        func vector(_ v: [Double]) -> Tensor { Tensor(v, shape: [v.count]) }
        switch self {
        case let .standard(s):
            var out: [String: Tensor] = [:]
            if let mean = s.mean { out["scaler.mean"] = vector(mean) }
            if let scale = s.scale { out["scaler.scale"] = vector(scale) }
            return out
        case let .minMax(s): return ["scaler.scale": vector(s.scale), "scaler.min": vector(s.offset)]
        case .normalizer: return [:]
        }
    }
}

/// The fitted transformers of a model, applied to raw input before the estimator, and stored
/// in model files: settings in the `pipeline` metadata, learned numbers as tensors.
public struct FittedPipeline: Sendable, Equatable {
    public var vectorizer: FittedTextVectorizer?
    public var scaler: FittedScaler?
    /// The settings the steps were built from (written to `pipeline`).
    public var spec: PipelineSpec

    /// No steps: features go to the estimator as they are.
    public init() {
        self.init(vectorizer: nil, scaler: nil, spec: PipelineSpec(text: Parameters(defaults: PipelineSpec.textSpecs),
                                                                  scaling: Parameters(defaults: PipelineSpec.scalingSpecs)))
    }

    public init(vectorizer: FittedTextVectorizer?, scaler: FittedScaler?, spec: PipelineSpec) {
        self.vectorizer = vectorizer
        self.scaler = scaler
        self.spec = spec
    }

    /// True when the model takes raw text.
    public var takesText: Bool { vectorizer != nil }

    /// Transforms raw features with every fitted step.
    /// - Throws: `InputError` when text meets a numeric model or the reverse; `FitError` from a step.
    public func transform(_ features: Dataset.Features) async throws -> FeatureMatrix {
        if case let .text(documents) = features, let vectorizer {
            return try scaled(.sparse(try await vectorizer.transform(documents)))
        }
        return try transformSerially(features)
    }

    /// `transform` on the calling thread, for small batches (a served request) where starting
    /// tasks would cost more than they save, and for callers that cannot suspend.
    /// - Throws: as `transform`.
    public func transformSerially(_ features: Dataset.Features) throws -> FeatureMatrix {
        switch (features, vectorizer) {
        case let (.text(documents), vectorizer?): return try scaled(.sparse(try vectorizer.transformSerially(documents)))
        case let (.numeric(m, _), nil): return try scaled(.dense(m))
        case (.text, nil): throw InputError("this model takes numeric features, not text")
        case (.numeric, _?): throw InputError("this model takes text, not numeric features")
        }
    }

    private func scaled(_ x: FeatureMatrix) throws(FitError) -> FeatureMatrix {
        guard let scaler else { return x }
        return try scaler.transform(x)
    }

    /// `pipeline` metadata: `[{"step": "tfidf", "params": {...}}, {"step": "scaler", "params": {...}}]`.
    public var metadata: JSONValue {
        var steps: [JSONValue] = []
        if vectorizer != nil {
            steps.append(.object(["step": .string(spec.text.string("vectorizer")), "params": spec.text.json]))
        }
        if scaler != nil {
            steps.append(.object(["step": .string("scaler"), "params": spec.scaling.json]))
        }
        return .array(steps)
    }

    public func tensors() -> [String: Tensor] {
        (vectorizer?.tensors() ?? [:]).merging(scaler?.tensors() ?? [:]) { a, _ in a }
    }

    /// Rebuilds a pipeline from a model file's `pipeline` metadata and tensors.
    /// - Throws: `InputError` at `location` for unknown steps, bad settings, or missing or
    ///   malformed tensors.
    public init(metadata: JSONValue, tensors: [String: Tensor], location: String) throws(InputError) {
        guard let steps = metadata.arrayValue, steps.count <= 2 else {
            throw InputError("metadata \"pipeline\" is not a list of at most two steps", at: location)
        }
        var textParameters = Parameters(defaults: PipelineSpec.textSpecs)
        var scalingParameters = Parameters(defaults: PipelineSpec.scalingSpecs)
        var hasText = false, hasScaler = false
        for (k, step) in steps.enumerated() {
            guard let object = step.objectValue, let name = object["step"]?.stringValue, let params = object["params"] else {
                throw InputError("pipeline step \(k) is not {\"step\": ..., \"params\": {...}}", at: location)
            }
            switch name {
            case "tfidf", "counts", "hashing":
                guard k == 0 else { throw InputError("pipeline step \(k) (\(quoted(name))): a vectorizer must come first", at: location) }
                textParameters = try Parameters(specs: PipelineSpec.textSpecs, json: params, location: location)
                guard textParameters.string("vectorizer") == name else {
                    throw InputError("pipeline step \(name) has vectorizer=\(textParameters.string("vectorizer"))", at: location)
                }
                hasText = true
            case "scaler" where !hasScaler:
                scalingParameters = try Parameters(specs: PipelineSpec.scalingSpecs, json: params, location: location)
                hasScaler = true
            default:
                throw InputError("pipeline step \(k) (\(quoted(name))) is unknown or out of place", at: location)
            }
        }
        let spec = PipelineSpec(text: textParameters, scaling: scalingParameters)
        func vector(_ name: String) throws(InputError) -> [Double] {
            guard let t = tensors[name], let v = t.doubles, t.shape == [v.count], v.allSatisfy(\.isFinite) else {
                throw InputError("tensor \(name) is missing or is not a finite F64 vector", at: location)
            }
            return v
        }
        // Either scaler's scale: a standard deviation (1 where it is zero) or the ratio of the
        // range to the data's spread, never a subnormal, whose reciprocal overflows.
        func scale() throws(InputError) -> [Double] {
            let v = try vector("scaler.scale")
            guard v.allSatisfy({ $0 > 0 && $0.isNormal }) else {
                throw InputError("tensor scaler.scale holds a value that is not a positive normal number", at: location)
            }
            return v
        }
        var vectorizer: FittedTextVectorizer? = nil
        if hasText {
            let settings: TextVectorizer
            do { settings = try spec.vectorizer() } catch { throw InputError(error.message, at: location) }
            switch settings {
            case let .hashing(h):
                vectorizer = .hashing(h)
            case .counts, .tfidf:
                let c = settings.countVectorizer!
                guard let b = tensors["vocabulary.bytes"], let bytes = b.bytes, b.shape == [bytes.count],
                      let o = tensors["vocabulary.offsets"], let offsets = o.int64s, o.shape == [offsets.count],
                      offsets.allSatisfy({ $0 >= 0 && $0 <= Int64(bytes.count) }) else {
                    throw InputError("tensors vocabulary.bytes (U8) and vocabulary.offsets (I64) are missing or malformed", at: location)
                }
                let counts = FittedCountVectorizer(
                    settings: c, vocabulary: try Vocabulary(bytes: bytes, offsets: offsets.map { Int($0) }, location: location))
                if case let .tfidf(t) = settings {
                    let idf = t.useIDF ? try vector("idf") : nil
                    if let idf, idf.count != counts.vocabulary.count {
                        throw InputError("tensor idf has \(idf.count) values for \(counts.vocabulary.count) terms", at: location)
                    }
                    vectorizer = .tfidf(FittedTfidfVectorizer(settings: t, counts: counts, idf: idf))
                } else {
                    vectorizer = .counts(counts)
                }
            }
        }
        var scaler: FittedScaler? = nil
        if hasScaler {
            switch spec.scaler {
            case let .standard(s)?:
                let mean = s.withMean ? try vector("scaler.mean") : nil
                let scale = s.withStd ? try scale() : nil
                if let mean, let scale, mean.count != scale.count {
                    throw InputError("tensors scaler.mean and scaler.scale differ in length", at: location)
                }
                scaler = .standard(FittedStandardScaler(settings: s, mean: mean, scale: scale))
            case .minMax?:
                let (scale, offset) = (try scale(), try vector("scaler.min"))
                guard scale.count == offset.count else { throw InputError("tensors scaler.scale and scaler.min differ in length", at: location) }
                scaler = .minMax(FittedMinMaxScaler(scale: scale, offset: offset))
            case let .normalizer(norm)?:
                scaler = .normalizer(norm)
            case nil:
                // A saved model without a scaler has no scaler step: this one was edited.
                throw InputError("pipeline step scaler has scaler=none", at: location)
            }
        }
        if let width = vectorizer?.featureCount, let scalerWidth = scaler?.featureCount, width != scalerWidth {
            throw InputError("the vectorizer makes \(width) features but the scaler takes \(scalerWidth)", at: location)
        }
        self.init(vectorizer: vectorizer, scaler: scaler, spec: spec)
    }

    /// The width of the features the estimator receives, when the pipeline decides it.
    var outputFeatureCount: Int? { scaler?.featureCount ?? vectorizer?.featureCount }
}
