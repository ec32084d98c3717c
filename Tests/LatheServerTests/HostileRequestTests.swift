import Foundation
import Hummingbird
import HummingbirdTesting
import Lathe
@testable import LatheServer
import TestSupport
import Testing

/// Seeded hostile requests: every one gets a 4xx with a JSON error, and the service still
/// answers afterwards. (`Benchmarks/serving/serve_bench.py` sends 10,000 to the real binary and
/// watches its memory.)
@Suite struct HostileRequestTests {
    static func hostileBody(_ kind: Int, _ generator: inout SeededGenerator) -> (uri: String, body: String) {
        let uris = ["/v1/models/spam:predict", "/v1/models/iris:predict", "/v2/models/spam/infer", "/v2/models/iris/infer"]
        let uri = uris[Int.random(in: 0..<uris.count, using: &generator)]
        switch kind {
        case 0:  // random bytes, mostly not UTF-8
            let bytes = (0..<Int.random(in: 0..<512, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            return (uri, String(decoding: bytes, as: UTF8.self))
        case 1:  // deep nesting
            let depth = Int.random(in: 60..<20_000, using: &generator)
            return (uri, "{\"instances\": " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}")
        case 2:  // wrong types everywhere
            let values: [String] = ["null", "true", "-0", "1e999", "\"\"", "{}", "[[]]", "[null]", "[{\"a\":1}]", "[[\"x\",\"y\",\"z\",\"w\"]]", "[1,2]"]
            let value = values[Int.random(in: 0..<values.count, using: &generator)]
            return (uri, Bool.random(using: &generator) ? "{\"instances\": \(value)}" : "{\"inputs\": \(value)}")
        case 3:  // a string over the body limit
            return (uri, "{\"instances\": [\"" + String(repeating: "x", count: (1 << 20) + 1) + "\"]}")
        default:  // truncated valid requests
            let valid = "{\"instances\": [\"free prize\", \"see you\"], \"inputs\": [{\"name\": \"text\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [\"hi\"]}]}"
            return (uri, String(valid.prefix(Int.random(in: 0..<(valid.count - 1), using: &generator))))
        }
    }

    @Test func everyHostileRequestIsRefusedWithA4xx() async throws {
        try await withService { client in
            var generator = SeededGenerator(seed: 7)
            var statuses: [Int: Int] = [:]
            for i in 0..<3000 {
                let kind = i % 50 == 3 ? 3 : [0, 1, 2, 4][i % 4]
                let (uri, body) = Self.hostileBody(kind, &generator)
                let response = try await client.call(.post, uri, body: body)
                statuses[response.status.code, default: 0] += 1
                #expect((400..<500).contains(response.status.code), "request \(i) to \(uri): \(response.status) \(response.text.prefix(200))")
                #expect(response.json?.objectValue?["error"]?.stringValue != nil, "request \(i): \(response.text.prefix(200))")
            }
            #expect(statuses[413] == 60)
            #expect(try await client.call(.post, "/v1/models/spam:predict", body: instancesBody([.string("still here")])).status == .ok)
        }
    }
}
