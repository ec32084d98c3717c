import Foundation
@testable import Lathe
import Linalg
import TestSupport
import Testing

/// Writes `contents` to a file named `name` in a fresh directory and returns its path.
func writeTemporary(_ name: String, _ contents: [UInt8]) throws -> String {
    let url = try makeTemporaryDirectory().appendingPathComponent(name)
    try Data(contents).write(to: url)
    return url.path
}

func writeTemporary(_ name: String, _ text: String) throws -> String {
    try writeTemporary(name, Array(text.utf8))
}

/// The message of the `InputError` that loading `path` throws, or nil if it loads.
func loadError(_ path: String, columns: ColumnOptions = ColumnOptions()) -> InputError? {
    do {
        _ = try Dataset.load(path, columns: columns)
        return nil
    } catch {
        return error
    }
}

@Suite struct DataLoadingTests {
    @Test func numericCSVWithTarget() throws {
        let path = try writeTemporary("d.csv", "a,b,target\n1,2,3.5\n4,5e-1,6\n")
        let d = try Dataset.load(path)
        guard case let .numeric(m, names) = d.features else { Issue.record("not numeric"); return }
        #expect(names == ["a", "b"])
        #expect(m == (try Matrix(rows: [[1, 2], [4, 0.5]])))
        #expect(d.targets == ["3.5", "6"])
        #expect(try d.regressionTargets() == [3.5, 6])
        #expect(d.name == "d")
    }

    @Test func targetColumnAnywhereAndQuotedHeader() throws {
        let path = try writeTemporary("d.csv", "\"y\",x1,\"x 2\"\r\n1,2,3\r\n4,5,6\r\n")
        let d = try Dataset.load(path, columns: ColumnOptions(target: "y"))
        guard case let .numeric(m, names) = d.features else { Issue.record("not numeric"); return }
        #expect(names == ["x1", "x 2"])
        #expect(m.row(1) == [5, 6])
        #expect(d.targets == ["1", "4"])
    }

    @Test(arguments: [
        ("a,target\n1,2\n3\n", "d.csv:3", "expected 2 fields"),
        ("a,target\n1,2\nx,3\n", "d.csv:3", "\"x\" is not a number"),
        ("a,target\n1,2\n0x10,3\n", "d.csv:3", "\"0x10\" is not a number"),
        ("a,target\n1,2\n,3\n", "d.csv:3", "empty cell"),
        ("a,target\n1,2\nnan,3\n", "d.csv:3", "not a finite number"),
        ("a,target\n1,2\ninf,3\n", "d.csv:3", "not a finite number"),
        ("a,target\n1,2\n2,NaN\n", "d.csv:3", "not finite"),
        ("a,b\n1,2\n", "d.csv", "no target column \"target\" (columns: \"a\", \"b\")"),
        ("", "d.csv", "file is empty"),
        ("a,target\n", "d.csv", "no data rows"),
        ("a,a,target\n1,2,3\n", "d.csv:1", "appears twice"),
        ("a,target\n\"1,2\n", "d.csv:2", "never closed"),
    ])
    func badNumericCSV(text: String, location: String, fragment: String) throws {
        let path = try writeTemporary("d.csv", text)
        let error = try #require(loadError(path))
        #expect(error.location?.hasSuffix(location) == true, "\(error)")
        #expect(error.message.contains(fragment), "\(error)")
        #expect(!error.description.contains("\n"))
    }

    /// Data that is not a regular file: a FIFO (`lathe cv <(zcat data.csv.gz)`) is read to its
    /// end, and /dev/null is an empty file, not "permission denied".
    @Test func fifosAndDevicesAreReadAsStreams() throws {
        #expect(loadError("/dev/null")?.message.contains("empty") == true)
        let fifo = try makeTemporaryDirectory().appendingPathComponent("stream.csv").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let writer = Thread {
            guard let handle = FileHandle(forWritingAtPath: fifo) else { return }
            handle.write(Data("a,b,target\n1,2,0\n3,4,1\n5,6,0\n".utf8))
            try? handle.close()
        }
        writer.start()
        let data = try Dataset.load(fifo)
        #expect(data.rowCount == 3 && data.targets == ["0", "1", "0"])
    }

    @Test func invalidUTF8SaysWhere() throws {
        var bytes = Array("a,target\n1,2\n".utf8)
        bytes += [UInt8(ascii: "3"), 0xC3, 0x28, UInt8(ascii: ","), UInt8(ascii: "4"), 0x0A]
        let error = try #require(loadError(try writeTemporary("d.csv", bytes)))
        #expect(error.location?.hasSuffix("d.csv:3") == true)
        #expect(error.message.contains("invalid UTF-8 at byte 2"))
    }

    @Test func missingFileAndDirectory() throws {
        #expect(loadError("/nonexistent/data.csv")?.message.contains("no such file") == true)
        #expect(loadError(try makeTemporaryDirectory().path)?.message.contains("directory") == true)
    }

    @Test func tsvTextKeepsQuotesAndTabsSplitFields() throws {
        let path = try writeTemporary("t.tsv", "label\ttext\nham\tsay \"hi\"\nspam\tWIN now\n")
        let d = try Dataset.load(path)
        guard case let .text(docs) = d.features else { Issue.record("not text"); return }
        #expect(docs == ["say \"hi\"", "WIN now"])
        #expect(d.targets == ["ham", "spam"])
        #expect(d.inferredTask == .classification)
    }

    @Test func csvTextWithQuotedNewlines() throws {
        let path = try writeTemporary("t.csv", "text,label\n\"line one\nline \"\"two\"\"\",a\nplain,b\n")
        let d = try Dataset.load(path)
        guard case let .text(docs) = d.features else { Issue.record("not text"); return }
        #expect(docs == ["line one\nline \"two\"", "plain"])
        #expect(d.targets == ["a", "b"])
    }

    @Test func jsonLinesWithChosenKeys() throws {
        let path = try writeTemporary("t.jsonl", "{\"y\": 3, \"body\": \"x\"}\n\n{\"y\": \"b\", \"body\": \"\\u00e9t\\u00e9\"}\n")
        let d = try Dataset.load(path, columns: ColumnOptions(label: "y", text: "body"))
        guard case let .text(docs) = d.features else { Issue.record("not text"); return }
        #expect(docs == ["x", "été"])
        #expect(d.targets == ["3", "b"])
        let bad = try writeTemporary("b.jsonl", "{\"label\": 1, \"text\": \"a\"}\n[1]\n")
        #expect(loadError(bad)?.location?.hasSuffix("b.jsonl:2") == true)
        let noText = try writeTemporary("c.jsonl", "{\"label\": 1, \"text\": 5}\n")
        #expect(loadError(noText)?.message.contains("not a string") == true)
    }

    @Test func gzipFilesAreDecompressed() throws {
        let dir = try makeTemporaryDirectory()
        let plain = dir.appendingPathComponent("t.tsv")
        try Data("label\ttext\na\thello\nb\tworld\n".utf8).write(to: plain)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-k", plain.path]
        try gzip.run()
        gzip.waitUntilExit()
        let d = try Dataset.load(plain.path + ".gz")
        #expect(d.targets == ["a", "b"])
        #expect(d.name == "t")
        var truncated = [UInt8](try Data(contentsOf: URL(fileURLWithPath: plain.path + ".gz")))
        truncated.removeLast(12)
        let error = loadError(try writeTemporary("x.tsv.gz", truncated))
        #expect(error?.message.contains("gzip") == true)
    }

    @Test func bundledDatasetsByName() throws {
        let names = BundledDatasets.entries.map(\.name)
        for expected in ["iris", "diabetes", "sms_spam", "20news", "20news-bydate-test"] {
            #expect(names.contains(expected))
        }
        let diabetes = try Dataset.load("diabetes")
        #expect(diabetes.rowCount == 442)
        #expect(diabetes.featureCount == 10)
        #expect(diabetes.inferredTask == .regression)
        #expect(diabetes.sha256 == "5e0cc973944c49be1c355bed5da5bedffccf2fb25b31a5536262ec79fb3cfd6b")
        let iris = try Dataset.load("iris")
        #expect(iris.inferredTask == .classification)
        #expect(iris.classes == ["setosa", "versicolor", "virginica"])
    }

    @Test func classesSortNumericallyWhenNumeric() throws {
        let d = Dataset(name: "n", features: .text(["a", "b", "c"]), targets: ["10", "9", "10"], sha256: "")
        #expect(d.classes == ["9", "10"])
        #expect(d.inferredTask == .classification)
    }
}
