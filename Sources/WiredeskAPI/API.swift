import Foundation
import Logging
import OpenAPIRuntime
import Prometheus
import WiredeskCore

/// The handlers of the operations in `openapi.yaml`. Each one maps its input to a Core call and
/// the result back; rules live in the Core, errors are thrown and become problem documents.
struct API: APIProtocol {
    let database: Database
    let stories: StoryStore
    let ingest: IngestService
    let bulkMaximum: Int
    let metrics: PrometheusCollectorRegistry
    let readiness: Readiness

    // MARK: Service

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: "ok"))))
    }

    func getReady(_ input: Operations.GetReady.Input) async throws -> Operations.GetReady.Output {
        try await readiness.check()
        return .ok(.init(body: .json(.init(status: "ready"))))
    }

    func getSpec(_ input: Operations.GetSpec.Input) async throws -> Operations.GetSpec.Output {
        .ok(.init(body: .yaml(HTTPBody(PackageResources.openapi_yaml))))
    }

    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        .ok(.init(body: .plainText(HTTPBody(metrics.emitToBuffer()))))
    }

    // MARK: Stories

    func createStory(_ input: Operations.CreateStory.Input) async throws -> Operations.CreateStory.Output {
        guard case .json(let document) = input.body else { throw Self.unsupportedBody }
        let story = try await stories.create(
            try StoryContent(document), by: try RequestScope.principal(), logger: RequestScope.logger)
        return .created(
            .init(
                headers: .init(location: "/v1/stories/\(story.id.uuidString.lowercased())", eTag: Self.etag(story)),
                body: .json(.init(story))))
    }

    func listIngestItems(_ input: Operations.ListIngestItems.Input) async throws -> Operations.ListIngestItems.Output {
        try RequestScope.reader()
        let id = try Self.storyID(input.path.id)
        let items = try await ingest.items(of: id, logger: RequestScope.logger)
        if items.isEmpty { _ = try await stories.story(id, logger: RequestScope.logger) }
        return .ok(.init(body: .json(items.map(Components.Schemas.IngestItem.init))))
    }

    func patchStory(_ input: Operations.PatchStory.Input) async throws -> Operations.PatchStory.Output {
        let principal = try RequestScope.principal()
        let id = try Self.storyID(input.path.id)
        let version = try Self.version(ifMatch: input.headers.ifMatch)
        let reason = try Self.queryParameter { try StoryStore.reason(input.query.reason) }
        let patch: OpenAPIObjectContainer =
            switch input.body {
            case .applicationMergePatchJson(let patch), .json(let patch): patch
            }
        let story = try await stories.edit(
            id, patch: try JSONValue(patch), reason: reason, ifVersion: version, by: principal,
            logger: RequestScope.logger)
        return .ok(.init(headers: .init(eTag: Self.etag(story)), body: .json(.init(story))))
    }

    func transitionStory(_ input: Operations.TransitionStory.Input) async throws -> Operations.TransitionStory.Output {
        let principal = try RequestScope.principal()
        let id = try Self.storyID(input.path.id)
        let version = try Self.version(ifMatch: input.headers.ifMatch)
        let minimal = try Self.prefersMinimal(input.headers.prefer)
        guard case .json(let request) = input.body else { throw Self.unsupportedBody }
        let story = try await stories.transition(
            id, Transition(request.transition), reason: request.reason, patch: try request.patch.map(JSONValue.init),
            ifVersion: version, by: principal, logger: RequestScope.logger)
        if minimal {
            return .noContent(.init(headers: .init(eTag: Self.etag(story), preferenceApplied: "return=minimal")))
        }
        return .ok(.init(headers: .init(eTag: Self.etag(story)), body: .json(.init(story))))
    }

    func publishApproved(_ input: Operations.PublishApproved.Input) async throws -> Operations.PublishApproved.Output {
        guard case .json(let request) = input.body else { throw Self.unsupportedBody }
        let outcomes = try await Publisher(stories: stories).publishApproved(
            limit: request.limit ?? 100, dryRun: request.dryRun ?? false, by: try RequestScope.principal(),
            logger: RequestScope.logger)
        return .ok(
            .init(
                body: .json(
                    .init(
                        results: outcomes.map {
                            .init(
                                id: $0.id.uuidString.lowercased(), result: .init(rawValue: $0.result.rawValue)!,
                                version: $0.version, reason: $0.reason)
                        })))
        )
    }

    /// Whether a `Prefer` header asks for `return=minimal` (RFC 7240: comma-separated
    /// preferences, each a token with optional parameters after `;`, names case-insensitive).
    /// Preferences the server does not know are ignored, as RFC 7240 asks; a header that is not
    /// one the spec allows (printable ASCII, spaces and tabs, at most 1024 bytes) is refused.
    static func prefersMinimal(_ header: String?) throws -> Bool {
        guard let header else { return false }
        guard header.utf8.count <= 1024, header.utf8.allSatisfy(ASCII.isFieldText) else {
            throw WiredeskError.malformed(
                field: "Prefer", "expected RFC 7240 preferences in printable ASCII, at most 1024 bytes, e.g. return=minimal")
        }
        return header.split(separator: ",").contains { preference in
            let main = preference.split(separator: ";", maxSplits: 1).first ?? ""
            let parts = main.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            return parts.count == 2 && parts[0].lowercased() == "return"
                && parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased() == "minimal"
        }
    }

    func listRevisions(_ input: Operations.ListRevisions.Input) async throws -> Operations.ListRevisions.Output {
        try RequestScope.reader()
        let page = try await Revisions.summaries(
            of: try Self.storyID(input.path.id), after: input.query.after ?? 0, limit: input.query.limit ?? 100,
            database: database, logger: RequestScope.logger)
        return .ok(
            .init(
                body: .json(
                    .init(
                        revisions: page.revisions.map(Components.Schemas.RevisionSummary.init),
                        next: page.next))))
    }

    func getRevision(_ input: Operations.GetRevision.Input) async throws -> Operations.GetRevision.Output {
        try RequestScope.reader()
        let revision = try await Revisions.revision(
            try Self.revisionNumber(input.path.number), of: try Self.storyID(input.path.id), database: database,
            logger: RequestScope.logger)
        return .ok(.init(body: .json(try .init(revision))))
    }

    func diffRevisions(_ input: Operations.DiffRevisions.Input) async throws -> Operations.DiffRevisions.Output {
        try RequestScope.reader()
        let changes = try await Revisions.diff(
            try Self.revisionNumber(input.path.number), try Self.revisionNumber(input.path.other),
            of: try Self.storyID(input.path.id), database: database, logger: RequestScope.logger)
        return .ok(
            .init(
                body: .json(
                    .init(
                        from: input.path.number, to: input.path.other,
                        changes: try changes.map(Components.Schemas.FieldChange.init)))))
    }

    // MARK: Helpers

    static let unsupportedBody = WiredeskError.malformed(field: "", "unsupported request body")

    static func etag(_ story: Story) -> String { "\"\(story.version)\"" }

    static func storyID(_ text: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw WiredeskError.malformed(field: "id", "not a UUID: \(text)") }
        return id
    }

    static func revisionNumber(_ number: Int) throws -> Int {
        guard (1...Int(Int32.max)).contains(number) else {
            throw WiredeskError.malformed(field: "number", "revisions are numbered from 1")
        }
        return number
    }

    /// A query parameter outside its schema is a malformed request (400), as a bad `limit` or
    /// `cursor` is; the Core calls the same text in a JSON body well-formed but unacceptable (422).
    static func queryParameter<T>(_ check: () throws -> T) throws -> T {
        do {
            return try check()
        } catch let error as WiredeskError where error.kind == .validation {
            throw WiredeskError(.malformed, error.message, fields: error.fields)
        }
    }

    /// The version a write names: `If-Match: "3"`, quoted as an ETag is. Without it the write is
    /// refused (428): a client that does not say what it read could overwrite what it never saw.
    static func version(ifMatch: String?) throws -> Int {
        guard let ifMatch else { throw Problem.preconditionRequired }
        let bytes = Array(ifMatch.trimmingCharacters(in: .whitespaces).utf8)
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\""),
            let version = ASCII.number(bytes.dropFirst().dropLast(), maxDigits: 9, leadingZero: false).map(Int.init)
        else {
            throw WiredeskError.malformed(field: "If-Match", #"expected the version as a quoted ETag, e.g. "3""#)
        }
        return version
    }
}
