import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// A connection of `lathe serve`, as Hummingbird's server sets it up: SwiftNIO's HTTP/1.1
/// decoder and encoder, Hummingbird's connection state (keep-alive, idle timeout, closing
/// idle connections on graceful shutdown), then `PredictionChannelHandler`, which answers each
/// request on the event loop that read it. Hummingbird's own HTTP/1 channel would hand every
/// request to an async task and stream its body through async sequences: on two cores that
/// machinery cost three times the prediction itself.
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
            // No pipelining assistance: answers are written in request order because each is
            // written before the next request is read.
            try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false,
                                                     withOutboundHeaderValidation: false, withEncoderConfiguration: .init(),
                                                     withDecoderLimitConfiguration: headLimits)
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: idleTimeout, logger: logger))
            try pipeline.addHandler(PredictionChannelHandler(service: service))
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
/// answer with its `Content-Length`. Bytes that are not HTTP get one JSON 400 and the
/// connection is closed; reading stops while the client does not read its answers, so a
/// client that only sends cannot grow the server's memory.
final class PredictionChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        case idle
        case reading(HTTPRequest, body: [UInt8], start: ContinuousClock.Instant)
        /// Over the limit while arriving: the rest is dropped and the 413 sent at its end.
        case discarding(HTTPRequest, start: ContinuousClock.Instant)
        /// Answered from its head (a declared length over the limit); the body is dropped.
        case answered
        /// After bytes that are not HTTP: nothing more is read.
        case closing
    }

    private let service: PredictionService
    private let limit: BodyLimit
    private var state = State.idle
    private var lastWrite: EventLoopFuture<Void>?
    private var readHeld = false

    init(service: PredictionService) {
        self.service = service
        self.limit = BodyLimit(service.limits.maxBodyBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (part, state) {
        case let (.head(head), .idle):
            let start = ContinuousClock.now
            if let failure = limit.refusal(declaredLength: head.headerFields[.contentLength]) {
                // Now, not after the body: a client waiting on `Expect: 100-continue` then
                // never sends it.
                state = .answered
                send(service.respond(to: head, body: .failure(failure), start: start), to: head, context: context)
                return
            }
            if head.headerFields[.expect]?.lowercased() == "100-continue" {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
            }
            state = .reading(head, body: [], start: start)
        case let (.body(chunk), .reading(head, body, start)):
            state = .idle  // the body array is uniquely referenced while it grows
            var body = body
            guard body.count + chunk.readableBytes <= limit.bytes else {
                state = .discarding(head, start: start)
                return
            }
            body.append(contentsOf: chunk.readableBytesView)
            state = .reading(head, body: body, start: start)
        case let (.end, .reading(head, body, start)):
            state = .idle
            send(service.respond(to: head, body: .success(body), start: start), to: head, context: context)
        case let (.end, .discarding(head, start)):
            state = .idle
            send(service.respond(to: head, body: .failure(limit.tooLarge), start: start), to: head, context: context)
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
        case let .reading(head, _, start), let .discarding(head, start):
            // A body that stopped parsing (a broken chunked encoding): that request's 400.
            state = .closing
            var answer = service.respond(to: head, body: .failure(BodyLimit.unreadable), start: start)
            answer.headers[.connection] = "close"
            send(answer, to: head, context: context)
            closeAfterWrites(context: context)
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

    /// Bytes that are not HTTP: the decoder cannot go on, so one 400 and the connection closes.
    private func refuseMalformed(context: ChannelHandlerContext) {
        if case .closing = state { return }
        state = .closing
        write(service.malformedRequest(start: .now), context: context)
        closeAfterWrites(context: context)
    }

    /// Writes `answer`, and closes the connection after it when the client asked to.
    private func send(_ answer: ServiceResponse, to head: HTTPRequest, context: ChannelHandlerContext) {
        var answer = answer
        let closing = head.headerFields[.connection].map(Self.asksToClose) ?? false
        if closing { answer.headers[.connection] = "close" }
        // The answer to HEAD is the one to GET without its body (every route is GET or POST,
        // so this is a 405 with the length of its error).
        write(answer, withBody: head.method != .head, context: context)
        if closing { closeAfterWrites(context: context) }
    }

    private func write(_ answer: ServiceResponse, withBody: Bool = true, context: ChannelHandlerContext) {
        var headers = answer.headers
        headers[.contentLength] = String(answer.body.readableBytes)
        context.write(wrapOutboundOut(.head(HTTPResponse(status: answer.status, headerFields: headers))), promise: nil)
        if withBody, answer.body.readableBytes > 0 { context.write(wrapOutboundOut(.body(answer.body)), promise: nil) }
        lastWrite = context.writeAndFlush(wrapOutboundOut(.end(nil)))
    }

    private func closeAfterWrites(context: ChannelHandlerContext) {
        guard let lastWrite else {
            context.close(promise: nil)
            return
        }
        lastWrite.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// True for a `Connection` header listing `close`.
    private static func asksToClose(_ value: String) -> Bool {
        value.split(separator: ",").contains { $0.lowercased().filter { $0 != " " && $0 != "\t" } == "close" }
    }
}
