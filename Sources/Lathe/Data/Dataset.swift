import Crypto
import Foundation
import Linalg

/// What a model predicts.
public enum Task: String, Sendable, Codable, CaseIterable {
    case classification
    case regression
}

/// A loaded data file: features (numeric or text) and one target per row.
public struct Dataset: Sendable {
    /// The features of a dataset.
    public enum Features: Sendable {
        /// `rows × features` numbers with the CSV header's names.
        case numeric(Matrix, names: [String])
        /// One document per row.
        case text([String])
    }

    /// The bundled name or the file's name without extension.
    public var name: String
    public var features: Features
    /// Each row's target as written in the file.
    public var targets: [String]
    /// The targets as numbers, when every one of them is a number.
    public var numericTargets: [Double]?
    /// Hex SHA-256 of the file's bytes as stored (before decompression).
    public var sha256: String

    public init(name: String, features: Features, targets: [String], sha256: String) {
        self.name = name
        self.features = features
        self.targets = targets
        self.sha256 = sha256
        var numbers: [Double] = []
        numbers.reserveCapacity(targets.count)
        for t in targets {
            guard let v = parseNumber(t) else { numbers = []; break }
            numbers.append(v)
        }
        self.numericTargets = numbers.count == targets.count ? numbers : nil
    }

    /// Number of rows.
    public var rowCount: Int { targets.count }

    /// Number of numeric feature columns; `nil` for text.
    public var featureCount: Int? {
        if case let .numeric(m, _) = features { return m.columnCount }
        return nil
    }

    /// True for text data.
    public var isText: Bool {
        if case .text = features { return true }
        return false
    }

    /// The distinct targets, sorted as scikit-learn sorts its classes (numerically when every
    /// label is a number, else by code point).
    public var classes: [String] {
        let distinct = Array(Set(targets))
        if numericTargets != nil {
            return distinct.sorted { parseNumber($0)! < parseNumber($1)! }
        }
        return distinct.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The task a user most likely means: classification for non-numeric targets or for at most
    /// 20 distinct integer values, regression otherwise.
    public var inferredTask: Task {
        guard let numbers = numericTargets else { return .classification }
        let integral = numbers.allSatisfy { $0.rounded() == $0 }
        return integral && Set(numbers).count <= 20 ? .classification : .regression
    }

    /// The targets as numbers, for regression.
    /// - Throws: `InputError` when a target is not a number.
    public func regressionTargets() throws(InputError) -> [Double] {
        guard let numbers = numericTargets else {
            let bad = targets.first { parseNumber($0) == nil } ?? ""
            throw InputError("regression needs numeric targets, found \(quoted(bad))", at: name)
        }
        return numbers
    }

    /// The rows at `indices`, in that order.
    public func rows(_ indices: [Int]) -> Dataset {
        var copy = self
        switch features {
        case let .numeric(m, names): copy.features = .numeric(m.rows(indices), names: names)
        case let .text(docs): copy.features = .text(indices.map { docs[$0] })
        }
        copy.targets = indices.map { targets[$0] }
        copy.numericTargets = numericTargets.map { n in indices.map { n[$0] } }
        return copy
    }
}

/// Parses a finite decimal number the way the CSV loader does (surrounding blanks allowed).
func parseNumber(_ text: some StringProtocol) -> Double? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard !trimmed.isEmpty, let v = decimalNumber(trimmed), v.isFinite else { return nil }
    return v
}

/// `Double(text)` without the hexadecimal forms (`0x10`, `0x1p3`) Swift also reads: a data
/// file's `0x10` is an identifier to NumPy and pandas, not sixteen.
func decimalNumber(_ text: some StringProtocol) -> Double? {
    guard !text.utf8.contains(where: { $0 | 0x20 == UInt8(ascii: "x") }) else { return nil }
    return Double(String(text))
}

/// Which columns of a data file to use.
public struct ColumnOptions: Sendable {
    /// Numeric CSV: the target column.
    public var target: String
    /// Text data: the label column (or JSON key).
    public var label: String
    /// Text data: the text column (or JSON key).
    public var text: String
    /// True when the caller named the text column, which makes a `.csv` file text data.
    public var textColumnGiven: Bool

    public init(target: String = "target", label: String = "label", text: String? = nil) {
        self.target = target
        self.label = label
        self.text = text ?? "text"
        self.textColumnGiven = text != nil
    }
}

extension Dataset {
    /// Loads a data file, or a bundled dataset by name (`lathe datasets` lists them).
    ///
    /// Numeric data is CSV with a header row; text data is `.tsv`, `.csv` or `.jsonl`, each
    /// optionally gzip-compressed (`.gz`). A `.csv` file is text when the text column is named
    /// or the header has a column called `text`.
    ///
    /// - Parameters:
    ///   - reference: a path or a bundled dataset's name.
    ///   - columns: the target, label and text column names.
    /// - Throws: `InputError` naming the file, the line and the column of the first problem.
    public static func load(_ reference: String, columns: ColumnOptions = ColumnOptions()) throws(InputError) -> Dataset {
        let path = BundledDatasets.resolve(reference) ?? reference
        let raw = try readFile(path, missing: "no such file or bundled dataset (see `lathe datasets`)")
        let digest = SHA256.hash(data: raw).map { String(format: "%02x", $0) }.joined()
        var lower = (path as NSString).lastPathComponent.lowercased()
        var bytes = raw
        if lower.hasSuffix(".gz") {
            bytes = try gunzip(raw, location: path)
            lower.removeLast(3)
        }
        let name = BundledDatasets.resolve(reference) != nil ? reference : datasetName(path)
        return try bytes.withUnsafeBufferPointer { (buf: UnsafeBufferPointer<UInt8>) throws(InputError) -> Dataset in
            guard !buf.isEmpty else { throw InputError("file is empty", at: path) }
            if let bad = firstInvalidUTF8Offset(buf) {
                let (line, column) = lineAndColumn(of: bad, in: buf)
                throw InputError("invalid UTF-8 at byte \(column) of the line", at: "\(path):\(line)")
            }
            if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") {
                let (labels, texts) = try parseJSONLines(buf, columns: columns, location: path)
                return Dataset(name: name, features: .text(texts), targets: labels, sha256: digest)
            }
            if lower.hasSuffix(".tsv") {
                let records = try parseDelimited(buf, separator: UInt8(ascii: "\t"), quoting: false, location: path)
                return try textDataset(records, name: name, columns: columns, location: path, digest: digest)
            }
            let records = try parseDelimited(buf, separator: UInt8(ascii: ","), quoting: true, location: path)
            if columns.textColumnGiven || records.first?.fields.contains(columns.text) == true {
                return try textDataset(records, name: name, columns: columns, location: path, digest: digest)
            }
            return try numericDataset(records, name: name, columns: columns, location: path, digest: digest)
        }
    }

    static func datasetName(_ path: String) -> String {
        var base = (path as NSString).lastPathComponent
        for ext in [".gz", ".csv", ".tsv", ".jsonl", ".ndjson"] where base.lowercased().hasSuffix(ext) {
            base.removeLast(ext.count)
        }
        return base
    }

    private static func header(_ records: [DelimitedRecord], location: String) throws(InputError) -> [String] {
        guard let first = records.first else { throw InputError("file is empty", at: location) }
        guard records.count > 1 else { throw InputError("no data rows after the header", at: location) }
        var seen = Set<String>()
        for name in first.fields {
            guard seen.insert(name).inserted else {
                throw InputError("column \(quoted(name)) appears twice in the header", at: "\(location):\(first.line)")
            }
        }
        return first.fields
    }

    private static func columnIndex(_ name: String, in header: [String], role: String, location: String) throws(InputError) -> Int {
        guard let index = header.firstIndex(of: name) else {
            throw InputError("no \(role) column \(quoted(name)) (columns: \(header.prefix(20).map { quoted($0) }.joined(separator: ", "))\(header.count > 20 ? ", …" : ""))",
                             at: location)
        }
        return index
    }

    private static func numericDataset(_ records: [DelimitedRecord], name: String, columns: ColumnOptions,
                                       location: String, digest: String) throws(InputError) -> Dataset {
        let head = try header(records, location: location)
        let targetIndex = try columnIndex(columns.target, in: head, role: "target", location: location)
        let featureNames = head.enumerated().filter { $0.offset != targetIndex }.map(\.element)
        let rows = records.count - 1
        let width = featureNames.count
        var elements = [Double](repeating: 0, count: rows * width)
        var targets: [String] = []
        targets.reserveCapacity(rows)
        for r in 0..<rows {
            let record = records[r + 1]
            guard record.fields.count == head.count else {
                throw InputError("expected \(head.count) fields as in the header, found \(record.fields.count)",
                                 at: "\(location):\(record.line)")
            }
            var j = 0
            for (c, cell) in record.fields.enumerated() {
                let trimmed = cell.trimmingCharacters(in: .whitespaces)
                if c == targetIndex {
                    guard !trimmed.isEmpty else {
                        throw InputError("column \(c + 1) (\(quoted(head[c]))): empty target", at: "\(location):\(record.line)")
                    }
                    if let v = decimalNumber(trimmed), !v.isFinite {
                        throw InputError("column \(c + 1) (\(quoted(head[c]))): target \(quoted(trimmed)) is not finite",
                                         at: "\(location):\(record.line)")
                    }
                    targets.append(trimmed)
                    continue
                }
                guard !trimmed.isEmpty else {
                    throw InputError("column \(c + 1) (\(quoted(head[c]))): empty cell", at: "\(location):\(record.line)")
                }
                guard let v = decimalNumber(trimmed) else {
                    throw InputError("column \(c + 1) (\(quoted(head[c]))): \(quoted(cell, limit: 40)) is not a number",
                                     at: "\(location):\(record.line)")
                }
                guard v.isFinite else {
                    throw InputError("column \(c + 1) (\(quoted(head[c]))): \(quoted(trimmed)) is not a finite number",
                                     at: "\(location):\(record.line)")
                }
                elements[r * width + j] = v
                j += 1
            }
        }
        guard width > 0 else { throw InputError("no feature columns besides the target", at: location) }
        let matrix = try! Matrix(rowCount: rows, columnCount: width, elements: elements)
        return Dataset(name: name, features: .numeric(matrix, names: featureNames), targets: targets, sha256: digest)
    }

    private static func textDataset(_ records: [DelimitedRecord], name: String, columns: ColumnOptions,
                                    location: String, digest: String) throws(InputError) -> Dataset {
        let head = try header(records, location: location)
        let labelIndex = try columnIndex(columns.label, in: head, role: "label", location: location)
        let textIndex = try columnIndex(columns.text, in: head, role: "text", location: location)
        var labels: [String] = []
        var texts: [String] = []
        labels.reserveCapacity(records.count - 1)
        texts.reserveCapacity(records.count - 1)
        for record in records.dropFirst() {
            guard record.fields.count == head.count else {
                throw InputError("expected \(head.count) fields as in the header, found \(record.fields.count)",
                                 at: "\(location):\(record.line)")
            }
            let label = record.fields[labelIndex].trimmingCharacters(in: .whitespaces)
            guard !label.isEmpty else { throw InputError("empty label", at: "\(location):\(record.line)") }
            labels.append(label)
            texts.append(record.fields[textIndex])
        }
        return Dataset(name: name, features: .text(texts), targets: labels, sha256: digest)
    }

    private static func parseJSONLines(_ bytes: UnsafeBufferPointer<UInt8>, columns: ColumnOptions,
                                       location: String) throws(InputError) -> ([String], [String]) {
        var labels: [String] = []
        var texts: [String] = []
        var line = 0
        var start = 0
        let newline = UInt8(ascii: "\n")
        while start < bytes.count {
            line += 1
            var end = start
            while end < bytes.count, bytes[end] != newline { end += 1 }
            let slice = UnsafeBufferPointer(rebasing: bytes[start..<end])
            start = end + 1
            if slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            guard let object = try? JSONValue.parse(Data(slice)).objectValue else {
                throw InputError("not a JSON object", at: "\(location):\(line)")
            }
            guard let text = object[columns.text]?.stringValue else {
                throw InputError("key \(quoted(columns.text)) is missing or not a string", at: "\(location):\(line)")
            }
            let labelText: String
            switch object[columns.label] {
            case let .string(s)?: labelText = s
            case let .integer(i)?: labelText = String(i)
            case let .number(d)? where d.isFinite: labelText = String(d)
            case nil: throw InputError("no key \(quoted(columns.label))", at: "\(location):\(line)")
            default: throw InputError("label is neither a string nor a number", at: "\(location):\(line)")
            }
            guard !labelText.isEmpty else { throw InputError("empty label", at: "\(location):\(line)") }
            labels.append(labelText)
            texts.append(text)
        }
        guard !labels.isEmpty else { throw InputError("no data rows", at: location) }
        return (labels, texts)
    }
}

/// Reads a whole file.
/// - Parameter missing: the message for a path that does not exist.
/// - Throws: `InputError` for a missing path, a directory or an unreadable file.
func readFile(_ path: String, missing: String = "no such file") throws(InputError) -> [UInt8] {
    var info = stat()
    guard stat(path, &info) == 0 else { throw InputError(missing, at: path) }
    guard info.st_mode & S_IFMT != S_IFDIR else { throw InputError("is a directory, not a file", at: path) }
    guard access(path, R_OK) == 0 else { throw InputError("cannot read the file: permission denied", at: path) }
    // contents(atPath:) reads regular files only; a FIFO or a device (`<(zcat data.csv.gz)`,
    // /dev/null) is opened once and read to its end instead.
    guard let data = info.st_mode & S_IFMT == S_IFREG
            ? FileManager.default.contents(atPath: path)
            : (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)))?.readDataToEndOfFile() else {
        throw InputError("cannot read the file", at: path)
    }
    return [UInt8](data)
}
