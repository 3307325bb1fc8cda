import Dispatch
import Hummingbird
import Metrics
import Synchronization

/// Hummingbird's request metrics, under the same names, taken when the handler has its answer.
/// Hummingbird's own middleware takes them after the body is written, by wrapping the body in a
/// closure: the server then writes head, body and end one at a time instead of in one write, and
/// those writes were a fifth of a story read's time. A streamed body (the feed's stream) counts as
/// answered when its head is ready, as the access log does.
private let knownMethods: Set<HTTPRequest.Method> = [
    .get, .head, .post, .put, .patch, .delete, .options, .trace, .connect,
]

struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let metrics = Cache()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let started = DispatchTime.now().uptimeNanoseconds
        // A client names any method it likes: one label for all but the known ones keeps the
        // metrics, and this cache, bounded.
        let method = knownMethods.contains(request.method) ? request.method : HTTPRequest.Method("_OTHER")!
        let active = metrics.active(method)
        active.increment()
        defer { active.decrement() }
        do {
            let response = try await next(request, context)
            let endpoint = metrics.endpoint(context.endpointPath ?? "Unknown", method, response.status)
            endpoint.requests.increment()
            endpoint.duration.recordNanoseconds(DispatchTime.now().uptimeNanoseconds - started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            let endpoint = metrics.endpoint(context.endpointPath ?? "NotFound", method, status)
            endpoint.requests.increment()
            endpoint.errors.increment()
            throw error
        }
    }

    /// The metrics of each method and route seen, made once: the metrics factory looks a label up
    /// under a lock.
    private final class Cache: Sendable {
        struct Endpoint: Sendable {
            var requests: Counter
            var duration: Metrics.Timer
            var errors: Counter
        }

        struct Key: Hashable {
            var route: String
            var method: HTTPRequest.Method
            var status: HTTPResponse.Status
        }

        private let methods = Mutex<[HTTPRequest.Method: Meter]>([:])
        private let endpoints = Mutex<[Key: Endpoint]>([:])

        func active(_ method: HTTPRequest.Method) -> Meter {
            methods.withLock { methods in
                if let meter = methods[method] { return meter }
                let meter = Meter(
                    label: "http.server.active_requests", dimensions: [("http.request.method", method.description)])
                methods[method] = meter
                return meter
            }
        }

        func endpoint(_ route: String, _ method: HTTPRequest.Method, _ status: HTTPResponse.Status) -> Endpoint {
            endpoints.withLock { endpoints in
                let key = Key(route: route, method: method, status: status)
                if let endpoint = endpoints[key] { return endpoint }
                let dimensions = [
                    ("http.route", route), ("http.request.method", method.description),
                    ("http.response.status_code", status.code.description),
                ]
                let endpoint = Endpoint(
                    requests: Counter(label: "hb.requests", dimensions: dimensions),
                    duration: Metrics.Timer(
                        label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds),
                    errors: Counter(
                        label: "hb.request.errors",
                        dimensions: [
                            ("http.route", route), ("http.request.method", method.description),
                            ("error.type", status.code.description),
                        ]))
                endpoints[key] = endpoint
                return endpoint
            }
        }
    }
}
