/// One record of a delimited text file, with the line it starts on (1-based).
struct DelimitedRecord {
    var line: Int
    var fields: [String]
}

/// Splits delimited text into records.
///
/// With `quoting`, fields follow RFC 4180: a field that starts with `"` runs to the matching
/// closing quote, `""` inside it is one quote, and it may span lines. Without it (TSV), a field
/// runs to the next separator or the end of the line. Lines end in LF or CRLF; blank lines are
/// skipped. The bytes must already be valid UTF-8.
///
/// - Throws: `InputError` for an unterminated quoted field or text after a closing quote.
func parseDelimited(_ bytes: UnsafeBufferPointer<UInt8>, separator: UInt8, quoting: Bool,
                    location: String) throws(InputError) -> [DelimitedRecord] {
    let newline = UInt8(ascii: "\n")
    let cr = UInt8(ascii: "\r")
    let quote = UInt8(ascii: "\"")
    var records: [DelimitedRecord] = []
    var fields: [String] = []
    var i = 0
    var line = 1
    let n = bytes.count

    func text(_ start: Int, _ end: Int) -> String {
        var e = end
        if e > start, bytes[e - 1] == cr { e -= 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<e]), as: UTF8.self)
    }

    while i < n {
        // Start of a record.
        let recordLine = line
        if bytes[i] == newline { line += 1; i += 1; continue }
        if bytes[i] == cr, i + 1 < n, bytes[i + 1] == newline { line += 1; i += 2; continue }
        fields.removeAll(keepingCapacity: true)
        var endOfRecord = false
        while !endOfRecord {
            if quoting, i < n, bytes[i] == quote {
                let fieldLine = line
                var value: [UInt8] = []
                i += 1
                var closed = false
                while i < n {
                    let b = bytes[i]
                    if b == quote {
                        if i + 1 < n, bytes[i + 1] == quote { value.append(quote); i += 2; continue }
                        closed = true
                        i += 1
                        break
                    }
                    if b == newline { line += 1 }
                    value.append(b)
                    i += 1
                }
                guard closed else {
                    throw InputError("quoted field opened here is never closed", at: "\(location):\(fieldLine)")
                }
                fields.append(String(decoding: value, as: UTF8.self))
                if i >= n { endOfRecord = true }
                else if bytes[i] == separator { i += 1 }
                else if bytes[i] == newline { i += 1; line += 1; endOfRecord = true }
                else if bytes[i] == cr, i + 1 < n, bytes[i + 1] == newline { i += 2; line += 1; endOfRecord = true }
                else {
                    throw InputError("unexpected text after a closing quote in field \(fields.count)",
                                     at: "\(location):\(line)")
                }
            } else {
                let start = i
                while i < n, bytes[i] != separator, bytes[i] != newline { i += 1 }
                fields.append(text(start, i))
                if i >= n { endOfRecord = true }
                else if bytes[i] == separator {
                    i += 1
                    if i >= n { fields.append(""); endOfRecord = true }
                } else { i += 1; line += 1; endOfRecord = true }
            }
        }
        records.append(DelimitedRecord(line: recordLine, fields: fields))
    }
    return records
}
