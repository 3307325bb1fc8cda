import ArgumentParser

@main
struct Wiredesk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wiredesk",
        abstract: "Newsroom editorial workflow: stories, review, publishing, audit.",
        discussion: """
            The database is DATABASE_URL (postgres://user[:password]@host[:port]/database), the app \
            role's, or the private cluster of scripts/pg on 127.0.0.1:$WIREDESK_PG_PORT (default \
            54329) as its app role. `migrate` connects as the owner instead: WIREDESK_MIGRATION_URL.
            Exit codes: 0 ok, 1 internal error, 2 invalid input, 3 not found, 4 stale version or \
            conflict, 5 not allowed for this user, 6 refused by the workflow, 7 database unavailable.
            `import` exits 2 when any file failed (the others went in); `publish` exits 1 when any story failed.
            """,
        subcommands: [
            MigrateCommand.self, ServeCommand.self, UserCommand.self, TokenCommand.self, StoryCommand.self,
            AuditCommand.self, ImportCommand.self, PublishCommand.self, WebhookCommand.self, FeedCommand.self, DeskCommand.self,
        ]
    )
}
