import Linalg

/// An error in what the user gave Lathe: a data file, a model file, a value. The command-line
/// tool prints its `description` after `error: ` and exits with status 1.
public struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the problem is (`data.csv:12`, `model.lathe`), if anywhere.
    public var location: String?
    /// What is wrong, in one line.
    public var message: String

    public init(_ message: String, at location: String? = nil) {
        self.location = location
        self.message = message
    }

    public var description: String {
        location.map { "\($0): \(message)" } ?? message
    }
}

/// A mistake in how Lathe was asked to do something (an unknown hyper-parameter, a value out of
/// range). The command-line tool prints it after `error: ` and exits with status 2.
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An estimator could not produce a model from the data it was given (too few samples, a
/// factorisation that failed). Reported as bad input.
public enum FitError: Error, Sendable, Equatable, CustomStringConvertible {
    case tooFewSamples(needed: Int, got: Int)
    case featureCountMismatch(expected: Int, got: Int)
    case targetCountMismatch(rows: Int, targets: Int)
    case nonFiniteFeatures
    case nonFiniteTargets
    case nonFiniteModel
    /// The model's outputs overflowed for these inputs (finite, but far outside the training data).
    case nonFiniteOutput
    case sparseInputUnsupported(estimator: String)
    case linearAlgebra(LinalgError)
    /// A vectorizer kept no terms (empty texts, or pruning by min_df/max_df/max_features).
    case emptyVocabulary(String)
    /// A transformer cannot take this kind of input (say, MinMaxScaler on sparse features).
    case unsupportedInput(String)

    public var description: String {
        switch self {
        case let .tooFewSamples(needed, got): return "need at least \(needed) samples, got \(got)"
        case let .featureCountMismatch(expected, got): return "model expects \(expected) features, got \(got)"
        case let .targetCountMismatch(rows, targets): return "\(rows) rows but \(targets) targets"
        case .nonFiniteFeatures: return "features contain NaN or infinity"
        case .nonFiniteTargets: return "targets contain NaN or infinity"
        case .nonFiniteModel: return "fitting produced non-finite coefficients (is the data badly scaled?)"
        case .nonFiniteOutput: return "the model's output is not finite for these inputs (values far outside the training data?)"
        case let .sparseInputUnsupported(estimator): return "\(estimator) does not accept sparse features yet"
        case let .linearAlgebra(error): return error.description
        case let .emptyVocabulary(why): return "empty vocabulary: \(why)"
        case let .unsupportedInput(why): return why
        }
    }
}

/// `text` in double quotes, fit to echo in a one-line error message: quotes and backslashes
/// escaped, as `singleLine` does the rest.
/// - Parameters:
///   - text: what the user's file, request or command line held.
///   - limit: the most Unicode scalars of `text` to show.
public func quoted(_ text: some StringProtocol, limit: Int = 64) -> String {
    "\"" + escaped(text, limit: limit, quotes: true) + "\""
}

/// `text` made safe to print on one line: control and formatting characters escaped (a newline
/// in a hostile file cannot forge a second line of output), and cut after `limit` Unicode
/// scalars, marked `…` (a 10 MB name does not become a 10 MB line).
/// - Parameters:
///   - text: what the user's file, request or command line held.
///   - limit: the most Unicode scalars of `text` to show.
public func singleLine(_ text: some StringProtocol, limit: Int) -> String {
    escaped(text, limit: limit, quotes: false)
}

private func escaped(_ text: some StringProtocol, limit: Int, quotes: Bool) -> String {
    var out = ""
    // Counted in scalars, not characters: one "character" can carry a million combining marks.
    for (shown, scalar) in text.unicodeScalars.enumerated() {
        guard shown < limit else { out += "…"; break }
        switch scalar {
        case "\"" where quotes: out += "\\\""
        case "\\" where quotes: out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned, .privateUse:
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}
