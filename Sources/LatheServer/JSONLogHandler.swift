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
        func field(_ key: String, _ value: JSONValue) {
            line.append(line.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
            JSONValue.string(key).write(to: &line)
            line.append(UInt8(ascii: ":"))
            value.write(to: &line)
        }
        line.append(contentsOf: "{\"time\":\"".utf8)
        Self.writeTimestamp(to: &line)
        line.append(UInt8(ascii: "\""))
        field("level", .string(event.level.rawValue))
        field("message", .string(event.message.description))
        if let error = event.error { field("error", .string("\(error)")) }
        for key in fields.keys.sorted() where !Self.reservedKeys.contains(key) {
            field(key, Self.json(fields[key]!))
        }
        line.append(contentsOf: "}\n".utf8)
        sink.write(line)
    }

    /// Fields the handler writes itself; metadata of the same name would repeat them.
    private static let reservedKeys: Set<String> = ["time", "level", "message", "error"]

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case let .string(s): return .string(s)
        case let .stringConvertible(v):
            switch v {
            case let i as Int: return .integer(Int64(i))
            case let d as Double: return .number(d)
            case let b as Bool: return .bool(b)
            default: return .string(v.description)
            }
        case let .array(items): return .array(items.map(json))
        case let .dictionary(members): return .object(members.mapValues(json))
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
