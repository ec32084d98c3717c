#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Lathe
import Logging
import Synchronization

/// A swift-log handler writing one JSON object per line: `time` (UTC, ISO 8601 with
/// milliseconds), `level`, `message`, then the metadata by name (numbers stay numbers), so an
/// access log can be read by a log shipper without a parsing rule.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    private let sink: LineSink

    /// A handler writing to `sink` (standard error by default; `flush()` it before exiting).
    public init(sink: LineSink = .standardError) {
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = event.metadata ?? [:]
        // Merged only when there is something to merge: an access-log line has its own fields only.
        if !metadata.isEmpty { fields.merge(metadata) { given, _ in given } }
        if let provided = metadataProvider?.get(), !provided.isEmpty { fields.merge(provided) { given, _ in given } }
        // Written field by field (time, level, message, then the metadata by name) rather than
        // as a JSONValue object: one line per request, on the request's own thread.
        var line: [UInt8] = []
        line.reserveCapacity(256)
        func key(_ name: String) {
            line.append(line.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
            JSONValue.writeString(name, to: &line)
            line.append(UInt8(ascii: ":"))
        }
        line.append(contentsOf: "{\"time\":\"".utf8)
        Self.writeTimestamp(to: &line)
        line.append(UInt8(ascii: "\""))
        key("level")
        JSONValue.writeString(event.level.rawValue, to: &line)
        key("message")
        JSONValue.writeString(event.message.description, to: &line)
        if let error = event.error {
            key("error")
            JSONValue.writeString("\(error)", to: &line)
        }
        // Sorted as pairs, so each value is not looked up again by its key.
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) where !Self.reservedKeys.contains(name) {
            key(name)
            Self.write(value, to: &line)
        }
        line.append(contentsOf: "}\n".utf8)
        sink.write(line)
    }

    /// Fields the handler writes itself; metadata of the same name would repeat them.
    private static let reservedKeys: Set<String> = ["time", "level", "message", "error"]

    /// A metadata value as JSON, written in place: integers, doubles and booleans as JSON
    /// numbers and literals, anything else as its description, a string.
    private static func write(_ value: Logger.Metadata.Value, to line: inout [UInt8]) {
        switch value {
        case let .string(s): JSONValue.writeString(s, to: &line)
        case let .stringConvertible(v):
            switch v {
            case let i as Int: line.append(contentsOf: String(i).utf8)
            case let d as Double: JSONValue.writeNumber(d, to: &line)
            case let b as Bool: line.append(contentsOf: (b ? "true" : "false").utf8)
            default: JSONValue.writeString(v.description, to: &line)
            }
        case let .array(items):
            line.append(UInt8(ascii: "["))
            for (k, item) in items.enumerated() {
                if k > 0 { line.append(UInt8(ascii: ",")) }
                write(item, to: &line)
            }
            line.append(UInt8(ascii: "]"))
        case let .dictionary(members):
            line.append(UInt8(ascii: "{"))
            for (k, (name, member)) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if k > 0 { line.append(UInt8(ascii: ",")) }
                JSONValue.writeString(name, to: &line)
                line.append(UInt8(ascii: ":"))
                write(member, to: &line)
            }
            line.append(UInt8(ascii: "}"))
        }
    }

    /// Writes now as `2026-11-23T10:15:30.123Z`, digit by digit (once per request: no strings).
    static func writeTimestamp(to out: inout [UInt8]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int32, _ width: Int, then separator: UInt8) {
            var divisor: Int32 = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
            out.append(separator)
        }
        digits(parts.tm_year + 1900, 4, then: UInt8(ascii: "-"))
        digits(parts.tm_mon + 1, 2, then: UInt8(ascii: "-"))
        digits(parts.tm_mday, 2, then: UInt8(ascii: "T"))
        digits(parts.tm_hour, 2, then: UInt8(ascii: ":"))
        digits(parts.tm_min, 2, then: UInt8(ascii: ":"))
        digits(parts.tm_sec, 2, then: UInt8(ascii: "."))
        digits(Int32(now.tv_nsec / 1_000_000), 3, then: UInt8(ascii: "Z"))
    }
}

/// Log lines to a file descriptor, gathered and written in batches: one `write` per line
/// costs a system call per request, a sizeable share of a small prediction's cost. A batch goes
/// out when it reaches 64 KiB or 100 ms after its first line, whichever is first, and on
/// `flush()`; lines stay whole and in order.
public final class LineSink: Sendable {
    private struct State {
        var buffer: [UInt8] = []
        var flushScheduled = false
    }

    private let fileDescriptor: Int32
    private let delay: DispatchTimeInterval
    private let state = Mutex(State())

    /// Standard error, shared by every handler that writes there.
    public static let standardError = LineSink(fileDescriptor: 2)

    /// - Parameters:
    ///   - fileDescriptor: where lines go.
    ///   - delay: how long a line may wait for others before it is written.
    public init(fileDescriptor: Int32, delay: DispatchTimeInterval = .milliseconds(100)) {
        self.fileDescriptor = fileDescriptor
        self.delay = delay
    }

    func write(_ line: [UInt8]) {
        state.withLock { state in
            state.buffer.append(contentsOf: line)
            if state.buffer.count >= 1 << 16 {
                drain(&state)
            } else if !state.flushScheduled {
                state.flushScheduled = true
                DispatchQueue.global().asyncAfter(deadline: .now() + delay) { self.flush() }
            }
        }
    }

    /// Writes every line gathered so far.
    public func flush() {
        state.withLock { state in
            state.flushScheduled = false
            drain(&state)
        }
    }

    /// Writes the buffer while the lock is held, so batches keep their order.
    private func drain(_ state: inout State) {
        state.buffer.withUnsafeBufferPointer { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(fileDescriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return }  // a closed log must not stop the service
                offset += written
            }
        }
        state.buffer.removeAll(keepingCapacity: true)
    }
}
