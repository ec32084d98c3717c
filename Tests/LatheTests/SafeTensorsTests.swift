import Foundation
@testable import Lathe
import Linalg
import TestSupport
import Testing

/// A linear model file with a standard-scaler step, trained on a slice of `diabetes`, as bytes.
func sampleModelBytes() async throws -> [UInt8] {
    let data = try Dataset.load("diabetes").rows(Array(0..<60))
    let model = try await ModelSpec(name: "ridge", task: .regression, assignments: [("scaler", "standard")]).fit(data)
    return ModelFile.container(for: model, created: Date(timeIntervalSince1970: 0)).serialized()
}

/// A container from a hand-written header and data section.
func container(header: String, data: [UInt8] = [], claimedLength: UInt64? = nil) -> [UInt8] {
    let h = Array(header.utf8)
    var out: [UInt8] = []
    withUnsafeBytes(of: (claimedLength ?? UInt64(h.count)).littleEndian) { out += $0 }
    return out + h + data
}

@Suite struct SafeTensorsTests {
    @Test func roundTripKeepsEverything() throws {
        let original = SafeTensors(
            metadata: ["format": "x", "note": "ünïcode \"quoted\"\n"],
            tensors: ["a": Tensor([1.5, -2, .pi], shape: [3]), "b": Tensor([Int64.min, 7], shape: [2, 1]),
                      "c": Tensor([UInt8]([1, 2, 255]), shape: [3]), "empty": Tensor([Double](), shape: [0, 4])])
        let bytes = original.serialized()
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect(headerLength % 8 == 0)
        #expect(try SafeTensors(bytes: bytes, location: "t") == original)
    }

    @Test(arguments: [
        ("{}", [UInt8](), UInt64?.none, ""),
        ("{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", [UInt8](repeating: 0, count: 8), nil, ""),
    ])
    func validContainersLoad(header: String, data: [UInt8], claimed: UInt64?, _ unused: String) throws {
        _ = try SafeTensors(bytes: container(header: header, data: data, claimedLength: claimed), location: "t")
    }

    @Test(arguments: [
        ("{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, UInt64(1 << 30), "exceeds"),
        ("{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, UInt64(200), "truncated"),
        ("not json at all", 0, nil, "not a JSON object"),
        ("{\"a\": [1,2", 0, nil, "not a valid JSON"),
        ("{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,16]}}", 8, nil, "outside"),
        ("{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, nil, "do not hold"),
        ("{\"a\":{\"dtype\":\"Q99\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, nil, "unsupported dtype"),
        ("{\"a\":{\"dtype\":\"F64\",\"shape\":[-1],\"data_offsets\":[0,8]}}", 8, nil, "non-negative"),
        ("{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}}", 8, nil, "overlaps"),
        ("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}", 8, nil, "gap"),
        ("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 8, nil, "after the last tensor"),
        ("{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}", 8, nil, "larger than the file"),
        ("{\"__metadata__\":{\"k\":1}}", 0, nil, "not a string"),
        ("{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", 0, nil, "nested"),
    ])
    func hostileContainersAreErrors(header: String, dataLength: Int, claimed: UInt64?, fragment: String) {
        let bytes = container(header: header, data: [UInt8](repeating: 0, count: dataLength), claimedLength: claimed)
        do {
            _ = try SafeTensors(bytes: bytes, location: "t")
            Issue.record("loaded a hostile container: \(header)")
        } catch {
            #expect(error.message.contains(fragment), "\(error)")
        }
    }

    @Test func tooShortIsAnError() {
        #expect(throws: InputError.self) { try SafeTensors(bytes: [1, 2, 3], location: "t") }
    }

    /// Every single-byte mutation of a real model file either loads (and predicts finite
    /// values) or fails with an `InputError`: never a crash, a hang or a NaN model.
    @Test func everyByteMutationIsHandled() async throws {
        let original = try await sampleModelBytes()
        let probe = FeatureMatrix.dense(Matrix(rowCount: 1, columnCount: 10, repeating: 1))
        var loaded = 0, rejected = 0
        for position in original.indices {
            for replacement: UInt8 in [original[position] ^ 0xFF, 0x00, UInt8(ascii: "9"), UInt8(ascii: "\"")] {
                var bytes = original
                bytes[position] = replacement
                do {
                    let model = try ModelFile.decode(bytes, location: "mutated")
                    let predictions = try model.predict(transformed: probe)
                    #expect(predictions.count == 1)
                    loaded += 1
                } catch is InputError {
                    rejected += 1
                }
            }
        }
        #expect(rejected > 0 && loaded > 0)
        // Truncations at every length.
        for length in 0..<original.count {
            #expect(throws: InputError.self) { try ModelFile.decode(Array(original[0..<length]), location: "cut") }
        }
    }

    /// The same for a text classifier: vocabulary, idf, classes and pipeline metadata mutated
    /// byte by byte; a file that still loads must predict raw text with finite probabilities.
    @Test func everyByteMutationOfATextClassifierIsHandled() async throws {
        let data = Dataset(name: "tiny", features: .text(["free prize call now", "lunch at noon?", "win a free phone",
                                                         "see you at lunch", "call now to win", "noon works for me"]),
                           targets: ["spam", "ham", "spam", "ham", "spam", "ham"], sha256: "")
        let model = try await ModelSpec(name: "logreg", task: .classification).fit(data)
        let original = ModelFile.container(for: model, created: Date(timeIntervalSince1970: 0)).serialized()
        var loaded = 0, rejected = 0
        for position in original.indices {
            for replacement: UInt8 in [original[position] ^ 0xFF, 0x00, UInt8(ascii: "9"), UInt8(ascii: "\"")] {
                var bytes = original
                bytes[position] = replacement
                do {
                    let mutated = try ModelFile.decode(bytes, location: "mutated")
                    let predictions = try await mutated.predict(.text(["free lunch now", ""]))
                    #expect(predictions.count == 2)
                    for case let .label(_, probabilities?, _) in predictions {
                        #expect(probabilities.values.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
                    }
                    loaded += 1
                } catch is InputError {
                    rejected += 1
                }
            }
        }
        #expect(rejected > 0 && loaded > 0)
    }

    @Test func modelFileMetadataIsChecked() async throws {
        let good = try SafeTensors(bytes: try await sampleModelBytes(), location: "m")
        func decodeWith(_ change: (inout SafeTensors) -> Void) -> InputError? {
            var copy = good
            change(&copy)
            do { _ = try ModelFile.decode(copy.serialized(), location: "m"); return nil } catch { return error }
        }
        #expect(decodeWith { _ in } == nil)
        #expect(decodeWith { $0.metadata["format"] = "other" }?.message.contains("not a Lathe model") == true)
        #expect(decodeWith { $0.metadata["format_version"] = "99" }?.message.contains("not supported") == true)
        #expect(decodeWith { $0.metadata["estimator"] = "nope" }?.message.contains("unknown model") == true)
        #expect(decodeWith { $0.metadata["params"] = "{\"alpha\": -3}" }?.message.contains("alpha") == true)
        #expect(decodeWith { $0.metadata["params"] = "{" }?.message.contains("not valid JSON") == true)
        #expect(decodeWith { $0.metadata.removeValue(forKey: "task") }?.message.contains("task") == true)
        #expect(decodeWith { $0.tensors["coef"] = Tensor([1.0, 2], shape: [2, 1]) }?.message.contains("coef") == true)
        #expect(decodeWith { $0.tensors["intercept"] = Tensor([Double.nan], shape: [1]) }?.message.contains("NaN") == true)
        #expect(decodeWith { $0.tensors["coef"] = Tensor([Int64](repeating: 0, count: 10), shape: [1, 10]) } != nil)
    }

    /// Files whose parts no longer agree: each loaded would predict differently from the model
    /// that was saved, so each is refused.
    @Test func metadataAndTensorsMustDescribeTheSameModel() async throws {
        let good = try SafeTensors(bytes: try await sampleModelBytes(), location: "m")
        func message(_ base: SafeTensors = good, _ change: (inout SafeTensors) -> Void) -> String? {
            var copy = base
            change(&copy)
            do { _ = try ModelFile.decode(copy.serialized(), location: "m"); return nil } catch { return error.message }
        }
        #expect(message { _ in } == nil)
        // The scaler step deleted from the metadata, its tensors left behind.
        #expect(message { $0.metadata["pipeline"] = "[]" }?.contains("tensor \"scaler.mean\" is not part of this model") == true)
        #expect(message { $0.tensors["extra"] = Tensor([1.0], shape: [1]) }?.contains("\"extra\"") == true)
        // A scaler step that scales nothing, its tensors left behind.
        #expect(message { $0.metadata["pipeline"] = "[{\"step\": \"scaler\", \"params\": {\"scaler\": \"none\"}}]" }?
            .contains("scaler=none") == true)
        // A subnormal scale passes "finite and > 0" but its reciprocal is infinite.
        #expect(message { $0.tensors["scaler.scale"] = Tensor([Double](repeating: 5e-324, count: 10), shape: [10]) }?
            .contains("scaler.scale") == true)
        // Duplicate keys: which one wins differs between JSON readers.
        #expect(message { $0.metadata["params"] = "{\"alpha\": 1.0, \"alpha\": 100.0}" }?.contains("not valid JSON") == true)

        let iris = try Dataset.load("iris")
        let tree = try await ModelSpec(name: "tree", task: .classification).fit(iris)
        let classifier = ModelFile.container(for: tree, created: Date(timeIntervalSince1970: 0))
        #expect(message(classifier) { _ in } == nil)
        #expect(message(classifier) { $0.metadata["task"] = "regression" }?.contains("classes") == true)

        let minMax = try await ModelSpec(name: "ridge", task: .regression, assignments: [("scaler", "minmax")])
            .fit(try Dataset.load("diabetes").rows(Array(0..<60)))
        let scaled = ModelFile.container(for: minMax, created: Date(timeIntervalSince1970: 0))
        #expect(message(scaled) { _ in } == nil)
        #expect(message(scaled) { $0.tensors["scaler.scale"] = Tensor([Double](repeating: 0, count: 10), shape: [10]) }?
            .contains("scaler.scale") == true)
    }

    /// Names a hostile file makes up come back quoted on one short line, however long or odd.
    @Test func echoedNamesStayOnOneShortLine() async throws {
        let good = try SafeTensors(bytes: try await sampleModelBytes(), location: "m")
        let hostile = "x\nerror: forged line\u{202E}" + String(repeating: "y", count: 100_000)
        var copy = good
        copy.metadata["pipeline"] = JSONValue.array([.object(["step": .string(hostile), "params": .object([:])])]).jsonText
        do {
            _ = try ModelFile.decode(copy.serialized(), location: "m")
            Issue.record("a made-up pipeline step loaded")
        } catch {
            #expect(error.message.contains("(\"x\\nerror: forged line\\u{202e}yyy"), "\(error.message.prefix(200))")
            #expect(!error.message.contains("\n") && error.message.count < 200, "\(error.message.prefix(200))")
        }
        #expect(quoted("a\"b\\c\td") == "\"a\\\"b\\\\c\\td\"")
        #expect(quoted(String(repeating: "é", count: 70)) == "\"" + String(repeating: "é", count: 64) + "…\"")
        // One character of many combining marks is cut by scalars, not kept whole.
        #expect(quoted("e" + String(repeating: "\u{301}", count: 10_000)).unicodeScalars.count == 67)
        #expect(singleLine("{\"k\": \"v\"}\r\n", limit: 100) == "{\"k\": \"v\"}\\r\\n")
    }
}
