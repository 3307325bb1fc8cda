import Foundation
import OpenAPIRuntime
import WiredeskCore

/// Desks, assignment and bulk changes: the operations of openapi.yaml that move stories between
/// desks and people, and many stories at once.
extension API {
    func listDesks(_ input: Operations.ListDesks.Input) async throws -> Operations.ListDesks.Output {
        try RequestScope.reader()
        let desks = try await DeskStore(database: database).desks(logger: RequestScope.logger)
        return .ok(
            .init(
                body: .json(
                    desks.map { .init(name: $0.name, title: $0.title, createdAt: $0.createdAt, createdBy: $0.createdBy) })))
    }

    func assignStory(_ input: Operations.AssignStory.Input) async throws -> Operations.AssignStory.Output {
        let principal = try RequestScope.principal()
        let id = try Self.storyID(input.path.id)
        let version = try Self.version(ifMatch: input.headers.ifMatch)
        guard case .json(let request) = input.body else { throw Self.unsupportedBody }
        let fields = try Self.known(JSONValue(request), ["desk", "assignee", "reason"])
        let reason: String? =
            switch fields["reason"] {
            case .string(let text)?: text
            case nil, .null?: nil
            default: throw WiredeskError.malformed(field: "reason", "expected text")
            }
        let story = try await stories.assign(
            id, try Self.assignment(fields), reason: reason, ifVersion: version, by: principal,
            logger: RequestScope.logger)
        return .ok(.init(headers: .init(eTag: Self.etag(story)), body: .json(.init(story))))
    }

    func bulkTransition(_ input: Operations.BulkTransition.Input) async throws -> Operations.BulkTransition.Output {
        guard case .json(let request) = input.body else { throw Self.unsupportedBody }
        let report = try await BulkChange(stories: stories).apply(
            .transition(Transition(request.transition)),
            to: try Self.selection(request.stories, request.query), reason: request.reason,
            dryRun: request.dryRun ?? false, maximum: bulkMaximum, by: try RequestScope.principal(),
            logger: RequestScope.logger)
        return .ok(.init(body: .json(.init(report))))
    }

    func bulkAssign(_ input: Operations.BulkAssign.Input) async throws -> Operations.BulkAssign.Output {
        guard case .json(let request) = input.body else { throw Self.unsupportedBody }
        let report = try await BulkChange(stories: stories).apply(
            .assign(try Self.assignment(try Self.known(JSONValue(request.assignment), ["desk", "assignee"]))),
            to: try Self.selection(request.stories, request.query), reason: request.reason,
            dryRun: request.dryRun ?? false, maximum: bulkMaximum, by: try RequestScope.principal(),
            logger: RequestScope.logger)
        return .ok(.init(body: .json(.init(report))))
    }

    /// The object, once no field of it is one its schema does not name (the generated types keep any).
    static func known(_ fields: JSONValue, _ names: Set<String>) throws -> JSONValue {
        if case .object(let object) = fields, let key = object.keys.sorted().first(where: { !names.contains($0) }) {
            throw WiredeskError.malformed(field: key, "unknown field")
        }
        return fields
    }

    /// `desk` and `assignee` of a JSON object: absent keeps, `null` clears, a name sets.
    static func assignment(_ fields: JSONValue) throws -> Assignment {
        func value(_ name: String) throws -> Assignment.Value {
            do { return try Assignment.Value(fields[name]) } catch let error as WiredeskError {
                throw WiredeskError.malformed(field: name, error.message)
            }
        }
        return Assignment(desk: try value("desk"), assignee: try value("assignee"))
    }

    /// Named stories or a query, exactly one of them.
    static func selection(
        _ named: [Components.Schemas.BulkTarget]?, _ query: Components.Schemas.BulkQuery?
    ) throws -> BulkChange.Selection {
        switch (named, query) {
        case (let named?, nil):
            return .stories(
                try named.map {
                    // The generated types do not hold a version to the spec's range.
                    if let version = $0.version, !(1...999_999_999).contains(version) {
                        throw WiredeskError.malformed(field: "stories.version", "expected 1 to 999999999")
                    }
                    return BulkChange.Target(id: try storyID($0.id), version: $0.version)
                })
        case (nil, let query?):
            let values = query.additionalProperties
            if let unknown = values.keys.sorted().first(where: { !StoryQuery.parameters.contains($0) }) {
                throw WiredeskError.malformed(field: "query.\(unknown)", "unknown filter")
            }
            // The filters are text the body's schema allows: one the filter does not take is invalid, not malformed.
            do { return .query(try StoryQuery.parsing { values[$0] }) } catch let error as WiredeskError {
                throw WiredeskError.invalid(
                    field: "query.\(error.fields.first?.field ?? "")", error.fields.first?.message ?? error.message)
            }
        default:
            throw WiredeskError.invalid(field: "stories", "name the stories (stories) or find them (query), one of the two")
        }
    }
}

extension Components.Schemas.BulkReport {
    init(_ report: BulkChange.Report) {
        self.init(
            bulkId: report.bulkId.uuidString.lowercased(), action: report.action, dryRun: report.dryRun,
            outcomes: report.outcomes.map {
                .init(
                    id: $0.id.uuidString.lowercased(), result: .init(rawValue: $0.result.rawValue)!, version: $0.version,
                    state: $0.state.map(Components.Schemas.StoryState.init), problem: $0.problem, detail: $0.detail,
                    rule: $0.rule, currentVersion: $0.currentVersion)
            })
    }
}
