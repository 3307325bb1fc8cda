import Logging
import Metrics
import NIOCore
import NIOHTTPTypes
import Synchronization
import WiredeskCore

/// How long a client may take, and how many may be connected at once.
public struct ConnectionLimits: Sendable {
    /// Open connections at most. At the cap, the connection that has waited longest without
    /// finishing a request header is closed to make room; if every connection is inside a request,
    /// the newcomer is closed instead.
    public var maximumConnections: Int
    /// How long a client has to send a whole request header, from connecting or from its first
    /// byte after an idle spell: a client that trickles a header byte by byte is cut off.
    public var headerTimeout: Duration
    /// How long a request body may take to arrive once its header has.
    public var bodyTimeout: Duration
    /// How long a kept-alive connection may sit between requests.
    public var idleTimeout: Duration

    public init(
        maximumConnections: Int = 1_000, headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(60),
        idleTimeout: Duration = .seconds(60)
    ) {
        self.maximumConnections = maximumConnections
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
    }
}

/// Every open connection, and whether it is inside a request (its header read, its response not
/// yet written), so that at the cap the right one can be closed.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        var channel: any Channel
        var inRequest: Bool
        /// When it last left a request (or connected): the longest waiting goes first.
        var since: UInt64
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var clock: UInt64 = 0
    }

    let maximum: Int
    private let state = Mutex(State())
    private let gauge = Gauge(label: "wiredesk_http_connections")

    init(maximum: Int) {
        self.maximum = maximum
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// Registers a new connection. Returns its id, or nil when it must be closed at once, and a
    /// connection to close to make room for it.
    func open(_ channel: any Channel) -> (id: UInt64?, evict: (any Channel)?) {
        let (id, evict, count) = state.withLock { state -> (UInt64?, (any Channel)?, Int) in
            var evict: (any Channel)?
            if state.entries.count >= maximum {
                let waiting = state.entries.filter { !$0.value.inRequest }.min { $0.value.since < $1.value.since }
                guard let (oldest, entry) = waiting else { return (nil, nil, state.entries.count) }
                state.entries[oldest] = nil
                evict = entry.channel
            }
            state.clock += 1
            state.entries[state.clock] = Entry(channel: channel, inRequest: false, since: state.clock)
            return (state.clock, evict, state.entries.count)
        }
        gauge.record(count)
        return (id, evict)
    }

    func setInRequest(_ id: UInt64, _ inRequest: Bool) {
        state.withLock { state in
            guard state.entries[id] != nil else { return }
            state.entries[id]!.inRequest = inRequest
            if !inRequest {
                state.clock += 1
                state.entries[id]!.since = state.clock
            }
        }
    }

    func close(_ id: UInt64) {
        let count = state.withLock { state in
            state.entries[id] = nil
            return state.entries.count
        }
        gauge.record(count)
    }
}

/// Watches one connection: registers it, and closes it when the client is too slow to send a
/// header or a body, or sits idle too long. Sits after the HTTP codec, where requests and
/// responses are whole parts; a small handler in front of the codec tells it when the first bytes
/// of a new request arrive.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Phase {
        /// Connected, or between requests with a new one begun: the header clock runs.
        case readingHeader
        case readingBody
        /// The request is in; the server is answering it.
        case answering
        case idle
    }

    private let registry: ConnectionRegistry
    private let limits: ConnectionLimits
    private let logger: Logger
    private var id: UInt64?
    private var phase = Phase.readingHeader
    private var requests = 0
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(registry: ConnectionRegistry, limits: ConnectionLimits, logger: Logger) {
        self.registry = registry
        self.limits = limits
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let (id, evict) = registry.open(context.channel)
        evict?.close(promise: nil)
        guard let id else {
            logger.notice("connection refused: every connection is inside a request")
            context.close(promise: nil)
            return
        }
        self.id = id
        try? context.pipeline.syncOperations.addHandler(FirstBytes(guard: self), position: .first)
        arm(limits.headerTimeout, "send a request header")
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        forget()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        forget()
        context.fireChannelInactive()
    }

    /// The connection is gone: no more clocks, and its place in the registry is free.
    private func forget() {
        disarm()
        if let id { registry.close(id) }
        id = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            requests += 1
            phase = .readingBody
            if let id { registry.setInRequest(id, true) }
            arm(limits.bodyTimeout, "send the request body")
        case .body:
            break
        case .end:
            if requests > 0 {
                phase = .answering
                disarm()
            } else {
                becomeIdle()  // answered before its body was read (a refusal): now the body is in too
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            requests = max(0, requests - 1)
            // While the body of a request answered early is still arriving, its clock keeps running.
            if requests == 0, phase == .answering { becomeIdle() }
        }
        context.write(data, promise: promise)
    }

    private func becomeIdle() {
        phase = .idle
        if let id { registry.setInRequest(id, false) }
        arm(limits.idleTimeout, "start another request")
    }

    /// The first bytes of a request on an idle connection: from now on the header clock runs.
    fileprivate func bytesArrived() {
        guard phase == .idle else { return }
        phase = .readingHeader
        arm(limits.headerTimeout, "send a request header")
    }

    private func arm(_ timeout: Duration, _ what: String) {
        timer?.cancel()
        guard let context else { return }
        let logger = self.logger
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(timeout.nanoseconds)) { [weak self] in
            guard let self, let context = self.context else { return }
            self.timer = nil
            logger.debug("closing a connection whose client took too long to \(what)")
            context.close(promise: nil)
        }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }

    /// In front of the HTTP decoder: sees raw bytes, and so the start of a request header.
    private final class FirstBytes: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        private weak var guardian: ConnectionGuard?

        init(guard guardian: ConnectionGuard) {
            self.guardian = guardian
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guardian?.bytesArrived()
            context.fireChannelRead(data)
        }
    }
}
