import Foundation

/// Receives the terms an analyzer finds, one call per occurrence. Generic rather than a closure
/// so that the per-term call is static in the hot loop.
protocol TermSink {
    /// One term occurrence, as UTF-8 bytes valid only during the call.
    mutating func consume(_ term: UnsafeBufferPointer<UInt8>)
}

/// Reusable buffers for `TextAnalyzer.analyze`, one per worker, so analysing a corpus does not
/// allocate per document.
struct AnalyzerScratch {
    var text: [UInt8] = []
    /// Token byte ranges into `text`, as (start, end) pairs.
    var tokens: [Int] = []
    /// Byte offset of each character (Unicode scalar) of a piece of text, plus its end.
    var scalarStarts: [Int] = []
    var joined: [UInt8] = []
}

/// Turns a document into terms the way scikit-learn's `CountVectorizer.build_analyzer()` does:
/// lower-casing, optional accent stripping, then word tokens (runs of two or more word
/// characters, `(?u)\b\w\w+\b`) and word n-grams, or character n-grams.
public struct TextAnalyzer: Sendable, Equatable {
    /// What a term is made of (scikit-learn's `analyzer`).
    public enum Kind: String, Sendable, CaseIterable {
        case word
        /// Character n-grams over the whole text, runs of whitespace collapsed to one space.
        case char
        /// Character n-grams inside words, each word padded with a space on both sides.
        case charWordBoundary = "char_wb"
    }

    /// scikit-learn's `strip_accents`.
    public enum AccentStripping: String, Sendable, CaseIterable {
        /// NFKD, then drop every non-ASCII character.
        case ascii
        /// NFKD, then drop combining marks.
        case unicode
    }

    public var kind: Kind
    public var lowercase: Bool
    public var stripAccents: AccentStripping?
    /// Drop scikit-learn's 318 English stop words (word analyzer only) before forming n-grams.
    public var englishStopWords: Bool
    /// Smallest and largest n of the n-grams (`ngram_range`), `1 <= lower <= upper`.
    public var ngramRange: ClosedRange<Int>

    public init(kind: Kind = .word, lowercase: Bool = true, stripAccents: AccentStripping? = nil,
                englishStopWords: Bool = false, ngramRange: ClosedRange<Int> = 1...1) {
        self.kind = kind
        self.lowercase = lowercase
        self.stripAccents = stripAccents
        self.englishStopWords = englishStopWords
        self.ngramRange = ngramRange
    }

    /// The terms of `document` in order of occurrence (convenience for tests and tools; the
    /// vectorizers use the allocation-free path).
    public func terms(_ document: String) -> [String] {
        struct Collector: TermSink {
            var terms: [String] = []
            mutating func consume(_ term: UnsafeBufferPointer<UInt8>) { terms.append(String(decoding: term, as: UTF8.self)) }
        }
        var collector = Collector()
        var scratch = AnalyzerScratch()
        analyze(document, into: &collector, scratch: &scratch)
        return collector.terms
    }

    func analyze<S: TermSink>(_ document: String, into sink: inout S, scratch: inout AnalyzerScratch) {
        let isASCII = preprocess(document, into: &scratch.text)
        switch kind {
        case .word: wordNGrams(into: &sink, scratch: &scratch, isASCII: isASCII)
        case .char: characterNGrams(into: &sink, scratch: &scratch)
        case .charWordBoundary: wordBoundaryNGrams(into: &sink, scratch: &scratch)
        }
    }

    /// Lower-cases and strips accents into `text` as UTF-8. ASCII documents (nearly all of them
    /// in practice) are lower-cased byte by byte; accents do not exist there.
    /// - Returns: true when the document is ASCII (so is `text`).
    private func preprocess(_ document: String, into text: inout [UInt8]) -> Bool {
        text.removeAll(keepingCapacity: true)
        let handled: Bool? = document.utf8.withContiguousStorageIfAvailable { bytes in
            for b in bytes where b >= 0x80 { return false }
            text.append(contentsOf: bytes)
            if lowercase {
                // In place over the buffer: a per-byte append pays a capacity and uniqueness
                // check each time (a tenth of a served batch's vectorizing).
                text.withUnsafeMutableBufferPointer { t in
                    for j in t.indices where t[j] &- 0x41 < 26 { t[j] |= 0x20 }
                }
            }
            return true
        }
        if handled == true { return true }
        var s = lowercase ? pythonLowercased(document) : document
        if let mode = stripAccents {
            let decomposed = s.decomposedStringWithCompatibilityMapping.unicodeScalars
            var kept = String.UnicodeScalarView()
            switch mode {
            case .ascii: kept.append(contentsOf: decomposed.lazy.filter(\.isASCII))
            case .unicode: kept.append(contentsOf: decomposed.lazy.filter { $0.properties.canonicalCombiningClass.rawValue == 0 })
            }
            s = String(kept)
        }
        text.append(contentsOf: s.utf8)
        return false
    }

    private func wordNGrams<S: TermSink>(into sink: inout S, scratch: inout AnalyzerScratch, isASCII: Bool) {
        scratch.tokens.removeAll(keepingCapacity: true)
        scratch.text.withUnsafeBufferPointer { t in
            if isASCII {
                asciiTokens(t, into: &scratch.tokens)
                return
            }
            var start = -1
            var length = 0
            var i = 0
            while i < t.count {
                let (scalar, width) = decodeScalar(t, at: i)
                if isWordCharacter(scalar) {
                    if start < 0 { start = i; length = 0 }
                    length += 1
                } else if start >= 0 {
                    if length >= 2 { keepToken(t, start, i, into: &scratch.tokens) }
                    start = -1
                }
                i += width
            }
            if start >= 0, length >= 2 { keepToken(t, start, t.count, into: &scratch.tokens) }
        }
        let tokenCount = scratch.tokens.count / 2
        scratch.text.withUnsafeBufferPointer { t in
            scratch.tokens.withUnsafeBufferPointer { tok in
                for n in ngramRange {
                    if n > tokenCount { break }
                    if n == 1 {
                        for k in 0..<tokenCount {
                            sink.consume(UnsafeBufferPointer(rebasing: t[tok[2 * k]..<tok[2 * k + 1]]))
                        }
                        continue
                    }
                    for first in 0...(tokenCount - n) {
                        scratch.joined.removeAll(keepingCapacity: true)
                        for k in first..<(first + n) {
                            if k > first { scratch.joined.append(0x20) }
                            scratch.joined.append(contentsOf: UnsafeBufferPointer(rebasing: t[tok[2 * k]..<tok[2 * k + 1]]))
                        }
                        scratch.joined.withUnsafeBufferPointer { sink.consume($0) }
                    }
                }
            }
        }
    }

    /// The word tokens of ASCII text, found 64 bytes at a time from a bit mask of its word bytes:
    /// the loop branches once per word boundary instead of once per byte, and word boundaries
    /// come every few bytes, each a mispredicted branch in the byte-by-byte loop.
    private func asciiTokens(_ t: UnsafeBufferPointer<UInt8>, into tokens: inout [Int]) {
        var inWord = false
        var start = 0
        var base = 0
        asciiWordBits.withUnsafeBufferPointer { isWord in
            while base < t.count {
                let count = min(64, t.count - base)
                var mask: UInt64 = 0
                var k = 0
                if let start = t.baseAddress {
                    let raw = UnsafeRawPointer(start + base)
                    while k + 8 <= count {
                        mask |= asciiWordByteBits(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: k, as: UInt64.self))) << UInt64(k)
                        k += 8
                    }
                }
                while k < count {
                    mask |= UInt64(isWord[Int(t[base + k])]) << UInt64(k)
                    k += 1
                }
                // Bits where a byte's kind differs from the byte before it (bits past the text
                // are non-word, so a word running to the end of the text ends at its end).
                var changes = mask ^ (mask << 1 | (inWord ? 1 : 0))
                while changes != 0 {
                    let at = base + changes.trailingZeroBitCount
                    changes &= changes &- 1
                    if inWord {
                        if at - start >= 2 { keepToken(t, start, at, into: &tokens) }
                    } else {
                        start = at
                    }
                    inWord.toggle()
                }
                base += count
            }
        }
        if inWord, t.count - start >= 2 { keepToken(t, start, t.count, into: &tokens) }
    }

    @inline(__always)
    private func keepToken(_ t: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, into tokens: inout [Int]) {
        if englishStopWords, englishStopWordTable.find(UnsafeBufferPointer(rebasing: t[start..<end])) != nil { return }
        tokens.append(start)
        tokens.append(end)
    }

    /// scikit-learn's `_char_ngrams`: runs of two or more whitespace characters become one space,
    /// then every n-gram of the text for each n that fits.
    private func characterNGrams<S: TermSink>(into sink: inout S, scratch: inout AnalyzerScratch) {
        scratch.joined.removeAll(keepingCapacity: true)
        scratch.text.withUnsafeBufferPointer { t in
            var i = 0
            while i < t.count {
                let (scalar, width) = decodeScalar(t, at: i)
                if isPythonWhitespace(scalar) {
                    var j = i + width
                    var run = 1
                    while j < t.count {
                        let (next, w) = decodeScalar(t, at: j)
                        guard isPythonWhitespace(next) else { break }
                        j += w
                        run += 1
                    }
                    if run >= 2 { scratch.joined.append(0x20) } else { scratch.joined.append(contentsOf: UnsafeBufferPointer(rebasing: t[i..<j])) }
                    i = j
                } else {
                    scratch.joined.append(contentsOf: UnsafeBufferPointer(rebasing: t[i..<(i + width)]))
                    i += width
                }
            }
        }
        emitCharacterNGrams(of: scratch.joined, starts: &scratch.scalarStarts, into: &sink, shortTextOnce: false)
    }

    /// scikit-learn's `_char_wb_ngrams`: each whitespace-separated word, padded with a space on
    /// both sides, gives its n-grams; a padded word shorter than n gives itself, once.
    private func wordBoundaryNGrams<S: TermSink>(into sink: inout S, scratch: inout AnalyzerScratch) {
        scratch.tokens.removeAll(keepingCapacity: true)
        scratch.text.withUnsafeBufferPointer { t in
            var start = -1
            var i = 0
            while i < t.count {
                let (scalar, width) = decodeScalar(t, at: i)
                if isPythonWhitespace(scalar) {
                    if start >= 0 { scratch.tokens.append(start); scratch.tokens.append(i); start = -1 }
                } else if start < 0 {
                    start = i
                }
                i += width
            }
            if start >= 0 { scratch.tokens.append(start); scratch.tokens.append(t.count) }
        }
        for k in 0..<(scratch.tokens.count / 2) {
            scratch.joined.removeAll(keepingCapacity: true)
            scratch.joined.append(0x20)
            scratch.joined.append(contentsOf: scratch.text[scratch.tokens[2 * k]..<scratch.tokens[2 * k + 1]])
            scratch.joined.append(0x20)
            emitCharacterNGrams(of: scratch.joined, starts: &scratch.scalarStarts, into: &sink, shortTextOnce: true)
        }
    }

    /// Emits every n-gram (in characters) of `text` for n in `ngramRange`. With `shortTextOnce`
    /// (char_wb), a text no longer than n is emitted whole once and larger n are skipped, as
    /// scikit-learn does.
    private func emitCharacterNGrams<S: TermSink>(of text: [UInt8], starts: inout [Int], into sink: inout S, shortTextOnce: Bool) {
        starts.removeAll(keepingCapacity: true)
        text.withUnsafeBufferPointer { t in
            var i = 0
            while i < t.count {
                starts.append(i)
                i += decodeScalar(t, at: i).width
            }
            starts.append(t.count)
            let length = starts.count - 1
            starts.withUnsafeBufferPointer { s in
                for n in ngramRange {
                    if shortTextOnce, n >= length {
                        sink.consume(t)
                        break
                    }
                    guard n <= length else { break }
                    for first in 0...(length - n) {
                        sink.consume(UnsafeBufferPointer(rebasing: t[s[first]..<s[first + n]]))
                    }
                }
            }
        }
    }
}

/// Python's `str.lower()`: each scalar's full lowercase mapping, except that capital sigma
/// becomes final sigma (ς) at the end of a word: after a cased letter and not before one,
/// case-ignorable characters skipped (Unicode's Final_Sigma condition). Swift's
/// `lowercased()` has no context rule, so Greek words would get different terms.
func pythonLowercased(_ text: String) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count + 16)
    // The scalars as an array only when a capital sigma needs its neighbours.
    var scalars: [Unicode.Scalar]? = nil
    for (i, scalar) in text.unicodeScalars.enumerated() {
        let value = scalar.value
        if value < 0x80 {
            // Most scalars of most texts: no table lookup, no temporary string.
            let byte = UInt8(value)
            out.append(byte &- 0x41 < 26 ? byte | 0x20 : byte)
            continue
        }
        guard scalar == "\u{03A3}" else {
            out.append(contentsOf: scalar.properties.lowercaseMapping.utf8)
            continue
        }
        let all = scalars ?? Array(text.unicodeScalars)
        scalars = all
        func casedNeighbour(_ indices: some Sequence<Int>) -> Bool {
            for j in indices {
                let p = all[j].properties
                if p.isCaseIgnorable { continue }
                return p.isCased
            }
            return false
        }
        let final = casedNeighbour(stride(from: i - 1, through: 0, by: -1)) && !casedNeighbour((i + 1)..<all.count)
        out.append(contentsOf: (final ? "\u{03C2}" : "\u{03C3}").utf8)
    }
    return String(decoding: out, as: UTF8.self)
}

/// The stop-word list as a lookup table over UTF-8 bytes.
let englishStopWordTable: TermTable = {
    var table = TermTable(capacity: englishStopWords.count)
    for word in englishStopWords {
        var bytes = Array(word.utf8)
        _ = bytes.withUnsafeMutableBufferPointer { table.insert(UnsafeBufferPointer($0)) }
    }
    return table
}()

/// Decodes the scalar starting at byte `i` of valid UTF-8 and its width in bytes.
@inline(__always)
func decodeScalar(_ t: UnsafeBufferPointer<UInt8>, at i: Int) -> (scalar: UInt32, width: Int) {
    let b0 = UInt32(t[i])
    if b0 < 0x80 { return (b0, 1) }
    if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(t[i + 1] & 0x3F), 2) }
    if b0 < 0xF0 { return ((b0 & 0x0F) << 12 | UInt32(t[i + 1] & 0x3F) << 6 | UInt32(t[i + 2] & 0x3F), 3) }
    return ((b0 & 0x07) << 18 | UInt32(t[i + 1] & 0x3F) << 12 | UInt32(t[i + 2] & 0x3F) << 6 | UInt32(t[i + 3] & 0x3F), 4)
}

/// 1 for the ASCII bytes `isWordCharacter` accepts, else 0.
private let asciiWordBits: [UInt8] = (0..<128).map { isWordCharacter(UInt32($0)) ? 1 : 0 }

/// Bit k set when byte k of `w` (eight ASCII bytes, little-endian) is a word character
/// (`[0-9A-Za-z_]`), as `asciiWordBits` says for each byte. Each test leaves a byte's high
/// bit set exactly where it holds: with bytes below 0x80, `x + (0x80 - lo)` reaches 0x80 iff
/// `x >= lo` and never carries into the next byte.
@inline(__always)
func asciiWordByteBits(_ w: UInt64) -> UInt64 {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    @inline(__always) func atLeast(_ lo: UInt64) -> UInt64 { w &+ (0x80 - lo) &* ones }
    let digit = atLeast(0x30) & ~atLeast(0x3A)
    let upper = atLeast(0x41) & ~atLeast(0x5B)
    let lower = atLeast(0x61) & ~atLeast(0x7B)
    let notUnderscore = (w ^ 0x5F &* ones) &+ 0x7F &* ones  // high bit clear only for 0x5F
    let word = (digit | upper | lower | ~notUnderscore) & highs
    // The eight high bits gathered into the low byte.
    return ((word >> 7) &* 0x0102_0408_1020_4080) >> 56
}

/// Python's `\w` for `str` patterns: letters, numbers and the underscore.
@inline(__always)
func isWordCharacter(_ v: UInt32) -> Bool {
    if v < 0x80 {
        return (v &- 0x61 < 26) || (v &- 0x41 < 26) || (v &- 0x30 < 10) || v == 0x5F
    }
    guard let scalar = Unicode.Scalar(v) else { return false }
    switch scalar.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
         .decimalNumber, .letterNumber, .otherNumber:
        return true
    default:
        return false
    }
}

/// Python's `str.isspace()` (what `\s` and `str.split()` use): Unicode White_Space plus the
/// information separators U+001C–U+001F.
@inline(__always)
func isPythonWhitespace(_ v: UInt32) -> Bool {
    if v < 0x80 { return v == 0x20 || (v &- 0x09 < 5) || (v &- 0x1C < 4) }
    return Unicode.Scalar(v)?.properties.isWhitespace ?? false
}
