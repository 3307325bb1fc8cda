import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

/// `wiredesk import` on a directory of 1,000 synthetic wire items, as a desk would run it.
@Suite struct ImportTests {
    static let leads = [
        "MOSCOW, Jan 6 (Reuters) - ", "GROSSETO, Italy (AP) -- ", "Berlin (dpa) - ", "ALMATY: ",
        "PARIS, January 7, 2022 (AFP) — ",
    ]

    /// Item `i`: one of the agency dateline shapes, paragraphs, sometimes a crosshead, sometimes a
    /// page trailer with agency line, date, caption and one related headline.
    static func item(_ i: Int) -> String {
        var lines = [
            leads[i % leads.count] + "Officials confirmed development number \(i) on Thursday, a spokesperson said.",
            "The second paragraph of story \(i) gives the context readers need.",
        ]
        if i % 3 == 0 { lines += ["\"CROSSHEAD FOR STORY \(i)\"", "A paragraph after the crosshead."] }
        if i % 4 == 3 {
            lines += [
                "Reuters", "Fri Jan 07 2022",
                "People gather in a square during the events of story \(i), January 6, 2022. - Photographer \(i)/ via REUTERS",
                "Related headline \(i)", "Related standfirst \(i).",
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func aThousandWireItemsImportOnceAndExportAsValidNinjs() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wire-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("nested"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for i in 0..<1000 {
            let folder = i % 2 == 0 ? directory : directory.appendingPathComponent("nested")
            try Data(Self.item(i).utf8).write(to: folder.appendingPathComponent(String(format: "item-%04d.txt", i)))
        }
        try Data([0x41, 0xFF, 0xFE, 0x42]).write(to: directory.appendingPathComponent("broken.txt"))
        try Data("{\"uri\": ".utf8).write(to: directory.appendingPathComponent("broken.json"))
        try Data("hidden".utf8).write(to: directory.appendingPathComponent(".DS_Store"))

        try await TestDatabase.withEmptyDatabase { _, url in
            let wiredesk = CLITests.CLI(url: url)
            #expect(try await wiredesk("migrate").status == 0)
            #expect(try await wiredesk("user", "add", "feeds", "--role", "ingest").status == 0)

            let first = try await wiredesk("import", directory.path, "--as", "feeds", "--json")
            #expect(first.status == 2, "\(first.err)")
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(first.out.utf8)) as? [String: Any])
            #expect(summary["created"] as? Int == 1000)
            #expect(summary["updated"] as? Int == 0)
            #expect(summary["duplicates"] as? Int == 0)
            #expect(summary["failed"] as? Int == 2)
            let failures = try #require(summary["failures"] as? [[String: String]])
            #expect(failures.map { ($0["file"]! as NSString).lastPathComponent }.sorted() == ["broken.json", "broken.txt"])
            #expect(failures.first { $0["file"]!.hasSuffix("broken.txt") }?["reason"] == "not UTF-8 text")
            #expect(failures.first { $0["file"]!.hasSuffix("broken.json") }?["reason"] == "not JSON")

            let again = try await wiredesk("import", directory.path, "--as", "feeds")
            #expect(again.out.contains("created 0, updated 0, duplicates 1000, failed 2"), "\(again.out)")
            #expect(again.err.contains("failed: \(directory.path)/broken.txt: not UTF-8 text"))

            // Every story, exported both ways, validates against IPTC's schemas.
            let stories = try await TestDatabase.withClient(url) { client in
                // A wait for a connection on a machine busy with the whole suite says nothing of the import.
                try await StoryPages.all(
                    database: Database(client: client, maximumConnections: 20, acquireTimeout: .seconds(60)),
                    logger: TestDatabase.logger)
            }
            #expect(stories.count == 1000)
            #expect(stories.filter { $0.content.body.contains { $0.kind == .crosshead } }.count == 334)
            #expect(stories.filter { !$0.content.pictures.isEmpty }.count == 250)
            #expect(Set(stories.compactMap(\.content.source)) == ["Reuters", "AP", "dpa", "AFP"])
            for version in Ninjs.ExportVersion.allCases {
                let (ok, report) = try await NinjsValidator.validate(stories.map { Ninjs.export($0, as: version) }, as: version)
                #expect(ok, "\(version): \(report.suffix(2000))")
                #expect(report.contains("1000 valid, 0 invalid"))
            }
        }
    }
}

extension ImportTests {
    @Test func aFileOverTheSizeLimitFailsByNameAndTheRestGoIn() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wire-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(Self.item(1).utf8).write(to: directory.appendingPathComponent("a.txt"))
        try Data((Self.item(2) + String(repeating: "More copy.\n", count: 400)).utf8)
            .write(to: directory.appendingPathComponent("b-huge.txt"))
        try Data(Self.item(3).utf8).write(to: directory.appendingPathComponent("c.txt"))
        try await TestDatabase.withMigratedDatabase { _, url in
            let wiredesk = CLITests.CLI(url: url)
            #expect(try await wiredesk("user", "add", "feeds", "--role", "ingest").status == 0)
            let result = try await wiredesk("import", directory.path, "--as", "feeds", "--max-size", "2048")
            #expect(result.status == 2)
            #expect(result.out.contains("created 2, updated 0, duplicates 0, failed 1"), "\(result.out)")
            #expect(result.err.contains("b-huge.txt"))
            #expect(result.err.contains("over the limit of 2048 bytes"), "\(result.err)")
            let bad = try await wiredesk("import", directory.path, "--as", "feeds", "--max-size", "0")
            #expect(bad.status == 2)
        }
    }
}

extension ImportTests {
    /// A newsMessage file is several items: each goes in and is reported under the file.
    @Test func aNewsMessageFileImportsEachItem() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("g2-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let message = directory.appendingPathComponent("message.xml")
        try TestDatabase.fixture("newsml-g2/message-two-texts.xml").write(to: message)
        try TestDatabase.fixture("nitf/reuters-almaty-2022-01-07.nitf.xml")
            .write(to: directory.appendingPathComponent("almaty.nitf"))
        try await TestDatabase.withMigratedDatabase { _, url in
            let wiredesk = CLITests.CLI(url: url)
            #expect(try await wiredesk("user", "add", "feeds", "--role", "ingest").status == 0)
            let result = try await wiredesk("import", directory.path, "--as", "feeds")
            #expect(result.status == 0, "\(result.err)")
            #expect(result.out.contains("created 3, updated 0, duplicates 0, failed 0"), "\(result.out)")
            #expect(result.out.components(separatedBy: "\(message.path): created story ").count == 3, "\(result.out)")
            let forced = try await wiredesk("import", message.path, "--as", "feeds", "--format", "newsml-g2", "--json")
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(forced.out.utf8)) as? [String: Any])
            #expect(summary["duplicates"] as? Int == 2)
            let wrong = try await wiredesk("import", message.path, "--as", "feeds", "--format", "nitf")
            #expect(wrong.status == 2)
            #expect(wrong.err.contains("root element is <nitf>, not <newsMessage>"), "\(wrong.err)")
        }
    }
}
