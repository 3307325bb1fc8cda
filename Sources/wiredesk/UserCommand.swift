import ArgumentParser
import Foundation
import Logging
import WiredeskCore

extension Role: ExpressibleByArgument {}

/// `--as USER` for admin commands: without it the actor is the console operator.
struct AdminActor: ParsableArguments {
    @Option(name: .customLong("as"), help: "The admin user acting (default: the console operator).")
    var user: String?

    @Flag(help: "Machine-readable JSON output.")
    var json = false

    func principal(_ users: UserStore, logger: Logger) async throws -> Principal {
        guard let user else { return UserStore.console }
        return try await users.principal(named: user, source: .cli, logger: logger)
    }
}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.", subcommands: [Add.self, List.self, Disable.self, Enable.self, RoleCmd.self, Passwd.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user with a role.")
        @Argument(help: "User name: a-z, 0-9, '.', '_', '-'.") var name: String
        @Option(help: "reporter, editor, publisher, admin or auditor.") var role: Role
        @OptionGroup var actor: AdminActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (name, role, actor) = (name, role, actor)
            try await database.run(json: actor.json) { database, logger in
                let users = UserStore(database: database)
                let user = try await users.add(
                    name, role: role, by: try await actor.principal(users, logger: logger), logger: logger)
                if actor.json {
                    try Console.printJSON(user)
                } else {
                    print("added \(user.name) (\(user.role.rawValue))")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @Flag(help: "Machine-readable JSON output.") var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let json = json
            try await database.run(json: json) { database, logger in
                let users = try await UserStore(database: database).list(logger: logger)
                if json { return try Console.printJSON(users) }
                for user in users {
                    let status = user.disabledAt.map { "disabled \(JSONCoding.formatDate($0))" } ?? "active"
                    print(
                        "\(user.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(user.role.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(status)"
                    )
                }
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user: their tokens stop working at once.")
        @Argument var name: String
        @OptionGroup var actor: AdminActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (name, actor) = (name, actor)
            try await database.run(json: actor.json) { database, logger in
                let users = UserStore(database: database)
                let user = try await users.disable(
                    name, by: try await actor.principal(users, logger: logger), logger: logger)
                if actor.json { try Console.printJSON(user) } else { print("disabled \(user.name)") }
            }
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a user's password for the web desk, read from standard input.",
            discussion: """
                The password is the first line of standard input (10 to 72 bytes), so it never appears \
                in the process list or the shell's history: `printf '%s' "$PASSWORD" | wiredesk user \
                passwd rita`. It is stored as a bcrypt hash. The user's desk sessions end at once.
                """)
        @Argument var name: String
        @OptionGroup var actor: AdminActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (name, actor) = (name, actor)
            // One line at most 1 KiB: what a terminal or a pipe hands over, never a file read whole.
            var bytes: [UInt8] = []
            while let byte = Self.readByte(), byte != UInt8(ascii: "\n"), bytes.count <= 1024 { bytes.append(byte) }
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            guard let password = String(validating: bytes, as: UTF8.self) else {
                throw Console.report(WiredeskError.invalid(field: "password", "not UTF-8 text"), json: actor.json)
            }
            try await database.run(json: actor.json) { database, logger in
                let users = UserStore(database: database)
                try await users.setPassword(
                    of: name, to: password, by: try await actor.principal(users, logger: logger), logger: logger)
                if actor.json { try Console.printJSON(["user": name]) } else { print("password set for \(name)") }
            }
        }

        private static func readByte() -> UInt8? {
            var byte: UInt8 = 0
            return read(0, &byte, 1) == 1 ? byte : nil
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enable a disabled user: their live tokens work again at once.")
        @Argument var name: String
        @OptionGroup var actor: AdminActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (name, actor) = (name, actor)
            try await database.run(json: actor.json) { database, logger in
                let users = UserStore(database: database)
                let (user, changed) = try await users.enable(
                    name, by: try await actor.principal(users, logger: logger), logger: logger)
                if actor.json { return try Console.printJSON(user) }
                print(changed ? "enabled \(user.name)" : "\(user.name) is already enabled; nothing changed")
            }
        }
    }

    struct RoleCmd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "role", abstract: "Change a user's role; their tokens act in it from the next request.")
        @Argument var name: String
        @Argument(help: "reporter, editor, publisher, admin, auditor or ingest.") var role: Role
        @OptionGroup var actor: AdminActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (name, role, actor) = (name, role, actor)
            try await database.run(json: actor.json) { database, logger in
                let users = UserStore(database: database)
                let (user, changed) = try await users.changeRole(
                    of: name, to: role, by: try await actor.principal(users, logger: logger), logger: logger)
                if actor.json { return try Console.printJSON(user) }
                print(
                    changed
                        ? "\(user.name) is now \(user.role.rawValue)"
                        : "\(user.name) is already \(user.role.rawValue); nothing changed")
            }
        }
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Manage API tokens.", subcommands: [Create.self, Revoke.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token; it is printed once and never stored.")
        @Argument(help: "The user the token acts as.") var user: String
        @Option(help: "Expire after this long: 12h, 90d, 2w (at most 3650d). Default: never.") var expires: String?
        @OptionGroup var actor: AdminActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (user, actor) = (user, actor)
            // Read before connecting: bad input is refused with nothing touched.
            let lifetime: Duration?
            do {
                lifetime = try expires.map(TokenLifetime.parse)
            } catch {
                throw Console.report(error, json: actor.json)
            }
            try await database.run(json: actor.json) { database, logger in
                let users = UserStore(database: database)
                let (token, info) = try await users.createToken(
                    for: user, expiresIn: lifetime, by: try await actor.principal(users, logger: logger),
                    logger: logger)
                let expiry = info.expiresAt.map(JSONCoding.formatDate)
                if actor.json {
                    var object = ["token": token, "id": info.id.uuidString.lowercased(), "user": info.user]
                    object["expiresAt"] = expiry
                    try Console.printJSON(object)
                } else {
                    print(token)
                    Console.printError(
                        "token \(info.id.uuidString.lowercased()) for \(info.user)\(expiry.map { ", expires \($0)" } ?? ""); it will not be shown again"
                    )
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id.")
        @Argument(help: "The token id printed when it was created (see `token list`).") var id: String
        @OptionGroup var actor: AdminActor
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let actor = actor
            let id = try parseID(id, json: actor.json)
            try await database.run(json: actor.json) { database, logger in
                let users = UserStore(database: database)
                let token = try await users.revokeToken(
                    id, by: try await actor.principal(users, logger: logger), logger: logger)
                if actor.json {
                    try Console.printJSON(token)
                } else {
                    print("revoked token \(token.id.uuidString.lowercased()) of \(token.user)")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (ids only; tokens are not stored).")
        @Argument(help: "Only this user's tokens.") var user: String?
        @Flag(help: "Machine-readable JSON output.") var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (user, json) = (user, json)
            try await database.run(json: json) { database, logger in
                let tokens = try await UserStore(database: database).tokens(of: user, logger: logger)
                if json { return try Console.printJSON(tokens) }
                for token in tokens {
                    var status = token.revokedAt.map { "revoked \(JSONCoding.formatDate($0))" } ?? "active"
                    if let expiresAt = token.expiresAt {
                        // This machine's clock, for reading only: the server asks the database's.
                        status += "  \(expiresAt > Date() ? "expires" : "expired") \(JSONCoding.formatDate(expiresAt))"
                    }
                    print(
                        "\(token.id.uuidString.lowercased())  \(token.user.padding(toLength: 20, withPad: " ", startingAt: 0)) created \(JSONCoding.formatDate(token.createdAt))  \(status)"
                    )
                }
            }
        }
    }
}

func parseID(_ text: String, json: Bool) throws -> UUID {
    guard let id = UUID(uuidString: text) else {
        throw Console.report(WiredeskError.invalid(field: "id", "\(text) is not a UUID"), json: json)
    }
    return id
}
