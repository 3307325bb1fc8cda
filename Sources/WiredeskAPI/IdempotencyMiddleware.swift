import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import WiredeskCore

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
}

/// A POST with an `Idempotency-Key` runs as one unit of work with its key (`IdempotencyStore`):
/// the same key from the same user with the same request gets the first answer again, marked
/// `Idempotent-Replayed: true`, and changes nothing; with a different request, 422. Runs after
/// authentication (keys are per user) and after the body is read (it is part of the request).
struct IdempotencyMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: IdempotencyStore

    /// Headers that change what a request asks for, and so belong to its fingerprint.
    static var meaningful: [HTTPField.Name] { [.contentType, .ifMatch, .prefer] }
    /// Headers that are part of an answer, and so are kept with it.
    static var kept: [HTTPField.Name] { [.contentType, .eTag, .location, .preferenceApplied] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard request.method == .post, let key = request.headers[.idempotencyKey] else {
            return try await next(request, context)
        }
        try IdempotencyStore.check(key: key)
        let principal = try RequestScope.principal()
        var collected = request
        let body = try await collected.collectBody(upTo: .max)
        let request = collected
        let fingerprint = IdempotencyStore.fingerprint(
            [request.method.rawValue, request.uri.description] + Self.meaningful.map { request.headers[$0] ?? "" },
            body: body.readableBytesView)
        // `next` is not escaping, and the unit of work's closure is: it reaches `next` through a
        // handle that is emptied before `next` goes out of scope, whoever still holds the handle.
        let (answer, replayed) = try await withoutActuallyEscaping(next) { next in
            let handler = BorrowedHandler(next)
            defer { handler.release() }
            return try await keys.answer(user: principal.name, key: key, fingerprint: fingerprint, logger: RequestScope.logger)
            {
                try await Self.recorded(try await handler.call(request, context))
            }
        }
        var headers = HTTPFields()
        for (name, value) in answer.headers {
            if let name = HTTPField.Name(name) { headers[name] = value }
        }
        if replayed { headers[.idempotentReplayed] = "true" }
        return Response(
            status: HTTPResponse.Status(code: answer.status), headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    /// The answer as it would have gone out: status, the headers that are part of it, the body.
    static func recorded(_ response: Response) async throws -> IdempotencyStore.Answer {
        let collector = Collector()
        try await response.body.write(CollectingWriter(collector: collector))
        var headers: [String: String] = [:]
        for name in kept {
            if let value = response.headers[name] { headers[name.canonicalName] = value }
        }
        return IdempotencyStore.Answer(status: response.status.code, headers: headers, body: collector.bytes)
    }
}

/// The rest of the chain, lent to the unit of work for as long as the middleware runs. The unit
/// calls it once, before the middleware returns; a call after that (which the database's lease
/// rules out) is refused rather than run.
private final class BorrowedHandler<Context>: @unchecked Sendable {
    private let lock = NSLock()
    private var next: ((Request, Context) async throws -> Response)?

    init(_ next: @escaping (Request, Context) async throws -> Response) {
        self.next = next
    }

    func call(_ request: Request, _ context: Context) async throws -> Response {
        guard let next = lock.withLock({ self.next }) else {
            throw WiredeskError(.unavailable, "the request ended before its work could start")
        }
        return try await next(request, context)
    }

    func release() {
        lock.withLock { next = nil }
    }
}

private final class Collector: Sendable {
    private let buffer = Mutex<[UInt8]>([])

    func append(_ bytes: ByteBuffer) { buffer.withLock { $0 += bytes.readableBytesView } }
    var bytes: [UInt8] { buffer.withLock { $0 } }
}

private struct CollectingWriter: ResponseBodyWriter {
    let collector: Collector

    mutating func write(_ buffer: ByteBuffer) async throws {
        collector.append(buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

extension HTTPField.Name {
    static let prefer = Self("Prefer")!
    static let preferenceApplied = Self("Preference-Applied")!
}
