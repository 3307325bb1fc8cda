import ArgumentParser
import Foundation
import Logging
import WiredeskCore

extension DeskStore.Route.Field: ExpressibleByArgument {}

/// `wiredesk desk`: the desks stories belong to, and where ingest sends new agency copy.
struct DeskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "desk", abstract: "Manage desks (World, Business, Sports…) and ingest's routes to them.",
        subcommands: [Add.self, List.self, Route.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a desk.")
        @Argument(help: "The desk's name: a-z, 0-9, '.', '_', '-' (world, business).") var name: String
        @Option(help: "The desk's title, as people read it (World).") var title: String
        @OptionGroup var actor: AdminActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (name, title, actor) = (name, title, actor)
            try await database.run(json: actor.json) { database, logger in
                let desk = try await DeskStore(database: database).add(
                    name, title: title, by: try await actor.principal(UserStore(database: database), logger: logger),
                    logger: logger)
                if actor.json { try Console.printJSON(desk) } else { print("added desk \(desk.name) (\(desk.title))") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List desks.")
        @Flag(help: "Machine-readable JSON output.") var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let json = json
            try await database.run(json: json) { database, logger in
                let desks = try await DeskStore(database: database).desks(logger: logger)
                if json { return try Console.printJSON(desks) }
                for desk in desks { print("\(desk.name)\t\(desk.title)") }
            }
        }
    }

    struct Route: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Route new agency copy to desks by its source or a keyword.",
            discussion: """
                Each rule sends copy whose agency (source) or one of whose keywords or subject names \
                (keyword) is the value, compared without case, to a desk. Rules are tried in the order \
                they were added; the first that matches wins; copy that none matches goes to no desk.
                """,
            subcommands: [RouteAdd.self, RouteList.self, RouteRemove.self])
    }

    struct RouteAdd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a rule.")
        @Option(help: "The desk the copy goes to.") var desk: String
        @Option(help: "Copy from this agency (its source credit, e.g. Reuters).") var source: String?
        @Option(help: "Copy with this keyword or subject name.") var keyword: String?
        @OptionGroup var actor: AdminActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (desk, source, keyword, actor) = (desk, source, keyword, actor)
            try await database.run(json: actor.json) { database, logger in
                let (field, value): (DeskStore.Route.Field, String)
                switch (source, keyword) {
                case (let source?, nil): (field, value) = (.source, source)
                case (nil, let keyword?): (field, value) = (.keyword, keyword)
                default: throw WiredeskError.malformed(field: "source", "give --source or --keyword, one of the two")
                }
                let route = try await DeskStore(database: database).addRoute(
                    desk: desk, field: field, value: value,
                    by: try await actor.principal(UserStore(database: database), logger: logger), logger: logger)
                if actor.json { try Console.printJSON(route) } else { print("added rule \(route.id): \(DeskCommand.line(route))") }
            }
        }
    }

    struct RouteList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List rules in the order they are tried.")
        @Flag(help: "Machine-readable JSON output.") var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let json = json
            try await database.run(json: json) { database, logger in
                let routes = try await DeskStore(database: database).routes(logger: logger)
                if json { return try Console.printJSON(routes) }
                for route in routes { print("\(route.id)\t\(DeskCommand.line(route))") }
            }
        }
    }

    struct RouteRemove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a rule.")
        @Argument(help: "The rule's number (desk route list).") var id: Int64
        @OptionGroup var actor: AdminActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (id, actor) = (id, actor)
            try await database.run(json: actor.json) { database, logger in
                try await DeskStore(database: database).removeRoute(
                    id, by: try await actor.principal(UserStore(database: database), logger: logger), logger: logger)
                if actor.json { try Console.printJSON(["removed": id]) } else { print("removed rule \(id)") }
            }
        }
    }

    static func line(_ route: DeskStore.Route) -> String {
        "\(route.field.rawValue) \(route.value) -> \(route.desk)"
    }
}
