import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WiredeskCore

/// `POST /v1/ingest` and `GET /v1/ingest/{itemId}/payload`, as described in openapi.yaml. These two
/// are written by hand: the generated server decodes a JSON body into a type, and ingest must store
/// the agency's bytes exactly as they came. They run behind the same middleware (request id,
/// problem documents, body limit, bearer token) as the generated routes.
struct IngestRoutes {
    let ingest: IngestService

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.post("/v1/ingest") { request, context -> Response in
            try await self.receive(request, context: context)
        }
        router.get("/v1/ingest/{itemId}/payload") { request, context -> Response in
            let text = context.parameters.get("itemId") ?? ""
            guard let id = UUID(uuidString: text) else { throw WiredeskError.malformed(field: "itemId", "not a UUID: \(text)") }
            try RequestScope.reader()
            let (data, mediaType) = try await ingest.payload(id, logger: RequestScope.logger)
            return Response(
                status: .ok, headers: [.contentType: mediaType], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }

    private func receive<Context: RequestContext>(_ request: Request, context: Context) async throws -> Response {
        var principal = try RequestScope.principal()
        principal.source = .ingest  // the audit trail tells ingested copy from an editor's API calls
        let mediaType = request.headers[.contentType] ?? ""
        let essence = mediaType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        let format: IngestFormat?
        switch essence {
        case "text/plain": format = .wireText
        case "application/json", "application/ninjs+json": format = .ninjs
        case NewsMLG2.newsItemMediaType, NewsMLG2.packageItemMediaType, NewsMLG2.newsMessageMediaType: format = .newsmlG2
        case "application/nitf+xml": format = .nitf
        // Generic XML: NITF or NewsML-G2, told apart by the root element.
        case "application/xml", "text/xml": format = nil
        default:
            throw Problem(
                .unsupportedMediaType, kind: "unsupported-media-type",
                detail:
                    "send text/plain (wire copy), application/json (ninjs), application/nitf+xml (NITF), "
                    + "application/vnd.iptc.g2.newsitem+xml, …packageitem+xml or …newsmessage+xml (NewsML-G2) "
                    + "or application/xml, not \(mediaType.isEmpty ? "nothing" : mediaType)")
        }
        let query = request.uri.queryParameters
        if let forced = query.get("format"), IngestFormat(rawValue: forced) == nil {
            throw WiredeskError.malformed(
                field: "format", "expected \(IngestFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        // A JSON body is a ninjs item, as the spec says; wire copy that is not JSON comes as text
        // (and text that is a ninjs item may be read as one, with format=ninjs).
        if format == .ninjs, query.get("format") == IngestFormat.wireText.rawValue {
            throw WiredeskError.invalid(field: "format", "a \(essence) body is a ninjs item; send wire copy as text/plain")
        }
        var splitTeasers = false
        if let value = query.get("splitTeasers") {
            guard let flag = Bool(value) else { throw WiredeskError.malformed(field: "splitTeasers", "expected true or false") }
            splitTeasers = flag
        }
        let fileName = query.get("fileName")

        var request = request
        let body = try await request.collectBody(upTo: .max)
        let delivery = try await ingest.deliver(
            Data(buffer: body), format: query.get("format").flatMap(IngestFormat.init) ?? format,
            mediaType: mediaType.isEmpty ? nil : mediaType, fileName: fileName, splitTeasers: splitTeasers,
            by: principal, logger: RequestScope.logger)
        var headers: HTTPFields = [.contentType: "application/json"]
        let created = delivery.outcomes.contains { $0.status == .created }
        // A newsMessage answers with every item's outcome, in its order, however many it held.
        guard !delivery.isMessage, let outcome = delivery.outcomes.first else {
            return Response(
                status: created ? .created : .ok, headers: headers,
                body: .init(byteBuffer: ByteBuffer(bytes: try JSONCoding.encode(Outcomes(items: delivery.outcomes)))))
        }
        if outcome.status == .created { headers[.location] = "/v1/stories/\(outcome.storyId.uuidString.lowercased())" }
        return Response(
            status: outcome.status == .created ? .created : .ok, headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: try JSONCoding.encode(outcome))))
    }

    /// The answer to a newsMessage.
    struct Outcomes: Encodable {
        var items: [IngestOutcome]
    }
}
