import AsyncHTTPClient
#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import Lathe
import NIOCore
import Synchronization
import TestSupport
import Testing

/// Text appended from another thread.
final class CollectedText: Sendable {
    private let text = Mutex("")
    func append(_ data: Data) { text.withLock { $0 += String(decoding: data, as: UTF8.self) } }
    var value: String { text.withLock { $0 } }
}

/// A running `lathe serve`: the built binary on a free loopback port, its stderr collected.
final class ServeProcess: @unchecked Sendable {
    let process: Process
    private let collected = CollectedText()
    let port: Int

    /// Starts `lathe serve ARGUMENTS --port 0` and waits for its `listening` line.
    init(_ arguments: [String], in directory: URL, environment extra: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = latheBinary
        process.arguments = ["serve"] + arguments + ["--port", "0"]
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        self.process = process
        let collected = self.collected
        errors.fileHandleForReading.readabilityHandler = { handle in collected.append(handle.availableData) }
        try process.run()
        var port: Int?
        let deadline = Date().addingTimeInterval(60)
        while port == nil, Date() < deadline, process.isRunning {
            Thread.sleep(forTimeInterval: 0.05)
            let listening = collected.value.split(separator: "\n").first { $0.contains("\"listening\"") }
            port = listening.flatMap { try? JSONValue.parse(Data($0.utf8)).objectValue?["port"]?.integerValue }.map(Int.init)
        }
        guard let port else {
            process.terminate()
            throw InputError("lathe serve did not start: \(collected.value)")
        }
        self.port = port
    }

    var stderr: String { collected.value }

    /// Sends `signal` and waits (up to 30 s) for the exit status.
    func stop(_ signal: Int32 = SIGTERM) -> Int32? {
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { process.terminate(); return nil }
        Thread.sleep(forTimeInterval: 0.2)  // the last stderr bytes
        return process.terminationStatus
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }
}

/// `lathe serve` as a user runs it: the binary, a real HTTP client (AsyncHTTPClient), the token
/// file, predictions equal to `lathe predict`, and a SIGTERM that lets a request in flight finish.
@Suite(.serialized) struct ServeEndToEndTests {
    static let texts = [
        "WINNER!! As a valued network customer you have been selected to receive a £900 prize reward!",
        "Ok lar... Joking wif u oni...",
        "Had your mobile 11 months or more? U R entitled to Update to the latest colour mobiles with camera for Free!",
        "I'm gonna be home soon and i don't want to talk about this stuff anymore tonight",
    ]

    static func post(_ url: String, _ body: String, token: String? = nil) async throws -> (status: Int, json: JSONValue?) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 24)
        return (Int(response.status.code), try? JSONValue.parse(Data(bytes.readableBytesView)))
    }

    static func get(_ url: String) async throws -> Int {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }

    @Test func servesWhatPredictPrints() async throws {
        let folder = try makeTemporaryDirectory()
        #expect(try lathe(["train", "sms_spam", "--model", "logreg", "--out", "spam.lathe", "--quiet"], in: folder).status == 0)
        let input = Self.texts.joined(separator: "\n") + "\n"
        let predicted = try lathe(["predict", "spam.lathe", "--json"], stdin: input, in: folder)
        #expect(predicted.status == 0)
        let expected = try predicted.stdout.split(separator: "\n").map { try JSONValue.parse(Data($0.utf8)) }
        #expect(expected.count == Self.texts.count)
        try "s3cret\n".write(to: folder.appendingPathComponent("token"), atomically: true, encoding: .utf8)

        let server = try ServeProcess(["spam.lathe", "--token-file", "token"], in: folder)
        let secret = "never-log-this-body-text"
        do {
            #expect(try await Self.get(server.url("/healthz")) == 200)
            #expect(try await Self.get(server.url("/readyz")) == 401)
            let body = JSONValue.object(["instances": .array(Self.texts.map { .string($0) })]).jsonText
            #expect(try await Self.post(server.url("/v1/models/spam:predict"), body).status == 401)
            let v1 = try await Self.post(server.url("/v1/models/spam:predict"), body, token: "s3cret")
            #expect(v1.status == 200)
            #expect(v1.json == .object(["predictions": .array(expected)]))

            let infer = JSONValue.object(["inputs": .array([.object([
                "name": .string("text"), "datatype": .string("BYTES"), "shape": .array([.integer(Int64(Self.texts.count))]),
                "data": .array(Self.texts.map { .string($0) }),
            ])])]).jsonText
            let v2 = try await Self.post(server.url("/v2/models/spam/infer"), infer, token: "s3cret")
            #expect(v2.status == 200)
            let outputs = v2.json?.objectValue?["outputs"]?.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(outputs.first?["data"] == .array(expected.map { $0.objectValue?["label"] ?? .null }))
            let probabilities = expected.flatMap { line -> [JSONValue] in
                let p = line.objectValue?["probabilities"]?.objectValue ?? [:]
                return [p["ham"] ?? .null, p["spam"] ?? .null]
            }
            #expect(outputs.last?["data"] == .array(probabilities))
            #expect(try await Self.post(server.url("/v1/models/spam:predict"), "{\"instances\": [\(JSONValue.string(secret).jsonText), 5]}",
                                        token: "s3cret").status == 400)
        } catch {
            _ = server.stop()
            throw error
        }
        #expect(server.stop() == 0)
        let log = server.stderr.split(separator: "\n").compactMap { try? JSONValue.parse(Data($0.utf8)).objectValue }
        let requests = log.filter { $0["message"] == .string("request") }
        #expect(requests.count == 6, "\(server.stderr)")
        #expect(requests.allSatisfy { $0["request_id"]?.stringValue != nil && $0["latency_ms"]?.doubleValue != nil })
        #expect(requests.last?["status"] == .integer(400) && requests.last?["model"] == .string("spam"))
        #expect(!server.stderr.contains(secret))
        #expect(log.last?["message"] == .string("stopped"))
    }

    @Test func sigtermLetsTheRequestInFlightFinish() async throws {
        let folder = try makeTemporaryDirectory()
        #expect(try lathe(["train", "iris", "--model", "tree", "--out", "iris.lathe", "--quiet"], in: folder).status == 0)
        let server = try ServeProcess(["iris.lathe"], in: folder)
        let body = "{\"instances\": [[5.1, 3.5, 1.4, 0.2]]}"
        // `Expect: 100-continue`: the server's 100 says it has read the head, so the request is
        // in flight (not a connection that has sent nothing yet, which shutdown may close) when
        // SIGTERM comes, however loaded the machine.
        let connection = try RawConnection(port: server.port)
        connection.send("POST /v1/models/iris:predict HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\nExpect: 100-continue\r\n\r\n"
                        + body.prefix(10))
        #expect(connection.responses(1).map(\.status) == [100])
        kill(server.process.processIdentifier, SIGTERM)
        try await _Concurrency.Task.sleep(for: .milliseconds(500))
        #expect(server.process.isRunning)  // still draining: the request has not finished
        connection.send(String(body.dropFirst(10)))
        let answers = connection.responses(1)
        #expect(answers.map(\.status) == [200])
        #expect(answers.first?.body.contains("\"label\":\"setosa\"") == true)
        #expect(connection.closes(within: 10))  // the server closes the connection once it has answered
        #expect(server.stop() == 0)
    }

    @Test func refusesToStartOnABadModelFile() throws {
        let folder = try makeTemporaryDirectory()
        try Data("not a model".utf8).write(to: folder.appendingPathComponent("bad.lathe"))
        expectError(try lathe(["serve", "bad.lathe"], in: folder), status: 1, containing: "bad.lathe: not a model file")
        expectError(try lathe(["serve", "missing.lathe"], in: folder), status: 1, containing: "missing.lathe: no such file")
        expectError(try lathe(["serve", "x.lathe", "--port", "70000"], in: folder), status: 2, containing: "--port")
        try Data().write(to: folder.appendingPathComponent("empty-token"))
        #expect(try lathe(["train", "iris", "--model", "tree", "--out", "iris.lathe", "--quiet"], in: folder).status == 0)
        expectError(try lathe(["serve", "iris.lathe", "--token-file", "empty-token"], in: folder), status: 1, containing: "bearer token")
        expectError(try lathe(["serve", "iris.lathe", "--token-file", "nope"], in: folder), status: 1, containing: "cannot read the token file")
    }
}

/// One TCP connection to a server on loopback, spoken to byte by byte: what HTTP clients
/// never send (garbage, pipelined requests, a half-closed socket) reaches `lathe serve` as is.
final class RawConnection {
    private let socket: Int32

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw InputError("cannot connect to port \(port)") }
    }

    deinit { close(socket) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    /// No more requests from this side (the server still answers what it was sent).
    func finishSending() { shutdown(socket, Int32(SHUT_WR)) }

    /// Reads until `count` whole responses (head and `Content-Length` body) have arrived, or
    /// the server closes, or 10 s pass without a byte; returns those that arrived.
    /// - Parameter headOnly: the answers (by position) that have no body whatever their
    ///   `Content-Length` says (the answers to HEAD).
    func responses(_ count: Int, headOnly: Set<Int> = []) -> [(status: Int, head: String, body: String)] {
        var buffer: [UInt8] = []
        var answers: [(Int, String, String)] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while answers.count < count {
            let received = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if received <= 0 { break }
            buffer.append(contentsOf: chunk[..<received])
            while let end = Self.headEnd(buffer) {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                let declared = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                let length = headOnly.contains(answers.count) ? 0 : declared
                guard buffer.count >= end + 4 + length else { break }
                let status = Int(head.split(separator: " ")[1]) ?? 0
                answers.append((status, head, String(decoding: buffer[(end + 4)..<(end + 4 + length)], as: UTF8.self)))
                buffer.removeFirst(end + 4 + length)
            }
        }
        return answers
    }

    /// True when the server closes the connection within `seconds`, sending nothing more.
    func closes(within seconds: Int) -> Bool {
        var wait = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var one: UInt8 = 0
        return recv(socket, &one, 1, 0) == 0
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }
}

/// What `lathe serve`'s connection handling does with requests an ordinary client never sends.
@Suite(.serialized) struct ServeConnectionTests {
    static let predict = "{\"instances\": [[5.1, 3.5, 1.4, 0.2]]}"

    static func post(_ path: String, _ body: String, extra: String = "") -> String {
        "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\(extra)\r\n\(body)"
    }

    static func withServer(_ extra: [String] = [], _ body: (Int) throws -> Void) throws {
        let folder = try makeTemporaryDirectory()
        #expect(try lathe(["train", "iris", "--model", "tree", "--out", "iris.lathe", "--quiet"], in: folder).status == 0)
        let server = try ServeProcess(["iris.lathe"] + extra, in: folder)
        try body(server.port)
        #expect(server.stop() == 0)
    }

    @Test func garbageGetsOneJSON400AndTheConnectionCloses() throws {
        try Self.withServer { port in
            for garbage in ["\u{01}\u{02}nonsense\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "POST /v1/models/iris:predict HTTP/1.1\r\nContent-Length: x\r\n\r\n"] {
                let connection = try RawConnection(port: port)
                connection.send(garbage)
                let answers = connection.responses(1)
                #expect(answers.count == 1 && answers.first?.status == 400, "\(garbage.debugDescription): \(answers)")
                #expect(answers.first?.body.contains("\"error\"") == true)
                #expect(connection.closes(within: 10))
            }
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        try Self.withServer { port in
            let connection = try RawConnection(port: port)
            connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + Self.post("/v1/models/iris:predict", Self.predict)
                            + "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" + Self.post("/v1/models/iris:predict", "{\"instances\": [[1]]}"))
            let answers = connection.responses(4)
            #expect(answers.map(\.status) == [200, 200, 404, 400])
            #expect(answers.count == 4 && answers[1].body.contains("setosa"))
            #expect(!connection.closes(within: 1))
        }
    }

    @Test func aBodyOverTheLimitIsRefusedAndTheConnectionGoesOn() throws {
        try Self.withServer(["--max-body-bytes", "100"]) { port in
            // Declared too long: refused from the head, before a byte of the body is sent.
            let declared = try RawConnection(port: port)
            declared.send("POST /v1/models/iris:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
            #expect(declared.responses(1).map(\.status) == [413])
            // Chunked past the limit: the rest is dropped, a 413 at its end, and the next request answered.
            let chunked = try RawConnection(port: port)
            let piece = String(repeating: "x", count: 60)
            chunked.send("POST /v1/models/iris:predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                         + "3c\r\n\(piece)\r\n3c\r\n\(piece)\r\n3c\r\n\(piece)\r\n0\r\n\r\n" + Self.post("/v1/models/iris:predict", Self.predict))
            let answers = chunked.responses(2)
            #expect(answers.map(\.status) == [413, 200])
            #expect(answers.first?.body.contains("over 100 bytes") == true)
        }
    }

    @Test func expectContinueHalfCloseAndConnectionClose() throws {
        try Self.withServer { port in
            let waiting = try RawConnection(port: port)
            waiting.send("POST /v1/models/iris:predict HTTP/1.1\r\nHost: x\r\nContent-Length: \(Self.predict.utf8.count)\r\nExpect: 100-continue\r\n\r\n")
            #expect(waiting.responses(1).map(\.status) == [100])
            waiting.send(Self.predict)
            #expect(waiting.responses(1).map(\.status) == [200])

            // A client that sends its request and shuts its side still gets the answer.
            let halfClosed = try RawConnection(port: port)
            halfClosed.send(Self.post("/v1/models/iris:predict", Self.predict))
            halfClosed.finishSending()
            #expect(halfClosed.responses(1).map(\.status) == [200])
            #expect(halfClosed.closes(within: 10))

            // HEAD: the head of the answer and its length, no body before the next answer.
            let head = try RawConnection(port: port)
            head.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let headAnswers = head.responses(2, headOnly: [0])
            #expect(headAnswers.map(\.status) == [405, 200])
            #expect(headAnswers.last?.body == "{\"status\":\"ok\"}")

            let closing = try RawConnection(port: port)
            closing.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let closingAnswers = closing.responses(1)
            #expect(closingAnswers.map(\.status) == [200])
            #expect(closing.closes(within: 10))
            #expect(closingAnswers.first?.head.lowercased().contains("connection: close") == true)
        }
    }

    @Test func http10AndConnectionCloseEndTheConnectionAfterOneAnswer() throws {
        try Self.withServer { port in
            // HTTP/1.0 without keep-alive: one answer, marked, then the connection closes.
            let old = try RawConnection(port: port)
            old.send("GET /healthz HTTP/1.0\r\n\r\n")
            let oldAnswers = old.responses(1)
            #expect(oldAnswers.map(\.status) == [200])
            #expect(oldAnswers.first?.head.lowercased().contains("connection: close") == true)
            #expect(old.closes(within: 10))
            // HTTP/1.0 asking for keep-alive stays open.
            let kept = try RawConnection(port: port)
            kept.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /readyz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(kept.responses(2).map(\.status) == [200, 200])
            // A request pipelined after `Connection: close` is not answered.
            let closing = try RawConnection(port: port)
            closing.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(closing.responses(2).map(\.status) == [200])
        }
    }

    @Test func idleConnectionsAreClosedAfterTheTimeout() throws {
        try Self.withServer(["--idle-timeout", "1"]) { port in
            let silent = try RawConnection(port: port)
            #expect(silent.closes(within: 10))
            let answered = try RawConnection(port: port)
            answered.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(answered.responses(1).map(\.status) == [200])
            #expect(answered.closes(within: 10))
            // Busy connections are not idle: requests a quarter of a second apart for two seconds.
            let busy = try RawConnection(port: port)
            for _ in 0..<8 {
                busy.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(busy.responses(1).map(\.status) == [200])
                usleep(250_000)
            }
        }
        let refused = try lathe(["serve", "x.lathe", "--idle-timeout", "0"])
        #expect(refused.status != 0 && refused.stderr.contains("--idle-timeout must be 1 to 86400 seconds"))
    }
}
