import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// A connection of `lathe serve`, as Hummingbird's server sets it up (bootstrap, graceful
/// shutdown, quiescing): SwiftNIO's HTTP/1.1 request decoder, then `PredictionChannelHandler`,
/// which answers each request on the event loop that read it and writes the answer as one
/// buffer. Hummingbird's own HTTP/1 channel would hand every request to an async task and
/// stream its body through async sequences, and NIO's response encoder with the HTTP-types
/// conversions around it cost a quarter of a small prediction again: on two cores shared with
/// the client, that is throughput and tail latency lost.
struct PredictionChannel: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let channel: any Channel
    }

    let service: PredictionService
    let idleTimeout: Duration

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // Hummingbird's header limits: a request cannot grow memory through its head.
            var headLimits = NIOHTTPDecoderLimitConfiguration()
            headLimits.maxHeaderFieldSize = 80 * 1024
            headLimits.maxHeaderListSize = 80 * 1024
            headLimits.maxHeaderFieldCount = 1000
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes,
                                                                             informationalResponseStrategy: .drop,
                                                                             limitConfiguration: headLimits)))
            try pipeline.addHandler(PredictionChannelHandler(service: service, idleTimeout: TimeAmount(idleTimeout)))
            return Value(channel: channel)
        }
    }

    /// Requests are answered by the handler; this task only keeps the connection counted
    /// until it closes, so a graceful shutdown waits for it.
    func handle(value: Value, logger: Logger) async {
        try? await value.channel.closeFuture.get()
    }
}

/// Gathers each request's body (up to the limit), has the service answer it, and writes the
/// answer — status line, headers with its `Content-Length`, body — in one write. Keep-alive as
/// HTTP/1.1 has it; a connection idle for the timeout is closed, and on graceful shutdown an
/// idle one at once, a busy one after its answer. Bytes that are not HTTP get one JSON 400 and
/// the connection is closed; reading stops while the client does not read its answers, so a
/// client that only sends cannot grow the server's memory.
final class PredictionChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case idle
        case reading(HTTPRequest, body: [UInt8], start: ContinuousClock.Instant)
        /// Over the limit while arriving: the rest is dropped and the 413 sent at its end.
        case discarding(HTTPRequest, start: ContinuousClock.Instant)
        /// Answered from its head (a declared length over the limit); the body is dropped.
        case answered
        /// After bytes that are not HTTP, or an answer after which the connection closes:
        /// nothing more is read.
        case closing
    }

    private let service: PredictionService
    private let limit: BodyLimit
    private let idleTimeout: TimeAmount
    private var state = State.idle
    /// The request being read is the connection's last: the client said so (`Connection:
    /// close`, or HTTP/1.0 without keep-alive), or the server is shutting down.
    private var closeAfterAnswer = false
    private var lastWrite: EventLoopFuture<Void>?
    private var readHeld = false
    private var lastActivity = NIODeadline.now()
    private var idleCheck: Scheduled<Void>?

    init(service: PredictionService, idleTimeout: TimeAmount) {
        self.service = service
        self.limit = BodyLimit(service.limits.maxBodyBytes)
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { scheduleIdleCheck(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        scheduleIdleCheck(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        switch (unwrapInboundIn(data), state) {
        case let (.head(head), .idle):
            let start = ContinuousClock.now
            guard let request = Self.request(head) else {
                refuseMalformed(context: context)
                return
            }
            if !head.isKeepAlive { closeAfterAnswer = true }
            if let failure = limit.refusal(declaredLength: head.headers.first(name: "content-length")) {
                // Now, not after the body: a client waiting on `Expect: 100-continue` then
                // never sends it.
                state = .answered
                send(service.respond(to: request, body: .failure(failure), start: start), to: request, context: context)
                return
            }
            if head.headers.first(name: "expect")?.lowercased() == "100-continue" {
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil)
            }
            state = .reading(request, body: [], start: start)
        case let (.body(chunk), .reading(request, body, start)):
            state = .idle  // the body array is uniquely referenced while it grows
            var body = body
            guard body.count + chunk.readableBytes <= limit.bytes else {
                state = .discarding(request, start: start)
                return
            }
            body.append(contentsOf: chunk.readableBytesView)
            state = .reading(request, body: body, start: start)
        case let (.end, .reading(request, body, start)):
            state = .idle
            send(service.respond(to: request, body: .success(body), start: start), to: request, context: context)
        case let (.end, .discarding(request, start)):
            state = .idle
            send(service.respond(to: request, body: .failure(limit.tooLarge), start: start), to: request, context: context)
        case (.end, .answered):
            state = .idle
        case (.body, .discarding), (.body, .answered), (_, .closing):
            break
        case (.head, _), (.body, .idle), (.end, .idle):
            // The decoder sends head, body, end in order; anything else is a bug upstream.
            refuseMalformed(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is IOError || error is ChannelError {
            context.close(promise: nil)  // the peer went away: nothing to answer
            return
        }
        switch state {
        case let .reading(request, _, start), let .discarding(request, start):
            // A body that stopped parsing (a broken chunked encoding): that request's 400.
            closeAfterAnswer = true
            send(service.respond(to: request, body: .failure(BodyLimit.unreadable), start: start), to: request, context: context)
        case .idle:
            refuseMalformed(context: context)
        case .answered:
            // Its 413 is sent; a second answer to the same request would be read as the next's.
            state = .closing
            closeAfterWrites(context: context)
        case .closing:
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            // Graceful shutdown: a request on its way is answered first, then the connection closes.
            switch state {
            case .reading, .discarding: closeAfterAnswer = true
            case .idle, .answered, .closing:
                state = .closing
                closeAfterWrites(context: context)
            }
            return
        }
        if case .inputClosed = event as? ChannelEvent {
            // The client sends nothing more: finish writing what it was answered, then close.
            closeAfterWrites(context: context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            readHeld = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, readHeld {
            readHeld = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    /// The request as the service reads it, or nil when its method or a header name is not
    /// a valid token. The target is kept as sent: only origin-form (`/path?query`) matches a
    /// route, anything else is a 404.
    private static func request(_ head: HTTPRequestHead) -> HTTPRequest? {
        guard let method = HTTPRequest.Method(head.method.rawValue) else { return nil }
        var fields = HTTPFields()
        fields.reserveCapacity(head.headers.count)
        for (name, value) in head.headers {
            guard let name = HTTPField.Name(name) else { return nil }
            fields.append(HTTPField(name: name, value: value))
        }
        return HTTPRequest(method: method, scheme: nil, authority: nil, path: head.uri, headerFields: fields)
    }

    /// Bytes that are not HTTP: the decoder cannot go on, so one 400 and the connection closes.
    private func refuseMalformed(context: ChannelHandlerContext) {
        if case .closing = state { return }
        state = .closing
        write(service.malformedRequest(start: .now), withBody: true, context: context)
        closeAfterWrites(context: context)
    }

    /// Writes `answer`, and closes the connection after it when this was its last request.
    private func send(_ answer: ServiceResponse, to request: HTTPRequest, context: ChannelHandlerContext) {
        var answer = answer
        if closeAfterAnswer {
            answer.headers[.connection] = "close"
            state = .closing
        }
        // The answer to HEAD is the one to GET without its body (every route is GET or POST,
        // so this is a 405 with the length of its error).
        write(answer, withBody: request.method != .head, context: context)
        if closeAfterAnswer { closeAfterWrites(context: context) }
    }

    private func write(_ answer: ServiceResponse, withBody: Bool, context: ChannelHandlerContext) {
        var out = context.channel.allocator.buffer(capacity: 256 + (withBody ? answer.body.readableBytes : 0))
        let code = answer.status.code
        out.writeStaticString("HTTP/1.1 ")
        out.writeInteger(UInt8(ascii: "0") + UInt8(code / 100 % 10))
        out.writeInteger(UInt8(ascii: "0") + UInt8(code / 10 % 10))
        out.writeInteger(UInt8(ascii: "0") + UInt8(code % 10))
        out.writeInteger(UInt8(ascii: " "))
        out.writeString(answer.status.reasonPhrase)
        out.writeStaticString("\r\n")
        for field in answer.headers where field.name != .contentLength {
            out.writeString(field.name.rawName)
            out.writeStaticString(": ")
            out.writeString(field.value)
            out.writeStaticString("\r\n")
        }
        out.writeStaticString("Content-Length: ")
        out.writeString(String(answer.body.readableBytes))
        out.writeStaticString("\r\n\r\n")
        if withBody { out.writeImmutableBuffer(answer.body) }
        lastWrite = context.writeAndFlush(wrapOutboundOut(out))
        lastActivity = .now()
    }

    private func closeAfterWrites(context: ChannelHandlerContext) {
        guard let lastWrite else {
            context.close(promise: nil)
            return
        }
        lastWrite.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// Closes the connection once nothing has been read or written on it for the idle timeout;
    /// checked at the earliest moment it could be due, then again from its last activity.
    private func scheduleIdleCheck(context: ChannelHandlerContext) {
        guard idleCheck == nil else { return }
        idleCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: lastActivity + idleTimeout) { [self] in
            idleCheck = nil
            if NIODeadline.now() >= lastActivity + idleTimeout {
                context.close(promise: nil)
            } else {
                scheduleIdleCheck(context: context)
            }
        }
    }
}
