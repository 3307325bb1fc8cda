import Foundation
import PostgresNIO
import Testing
import WiredeskCore
import WiredeskTestSupport

/// Finding stories: ranking, stemming, snippets, every filter, and pages that neither skip nor
/// repeat a story while others are added.
@Suite struct StorySearchTests {
    static func content(
        _ headline: String, body: [String] = ["Nothing else happened."], language: String? = "en",
        source: String? = nil, bylines: [String] = [], keywords: [String] = [], urgency: Int? = nil,
        embargo: Date? = nil, pictures: [Picture] = [], standfirst: String? = nil
    ) -> StoryContent {
        StoryContent(
            headline: headline, standfirst: standfirst, source: source, bylines: bylines.map { Byline(name: $0) },
            language: language, urgency: urgency, keywords: keywords, embargo: embargo,
            body: body.map { BodyBlock(.paragraph, $0) }, pictures: pictures)
    }

    func find(_ query: StoryQuery, _ newsroom: Newsroom) async throws -> [UUID] {
        try await StoryPages.ids(query, database: newsroom.database, logger: newsroom.logger)
    }

    @Test func aHeadlineHitOutranksABodyHit() async throws {
        try await Newsroom.with { newsroom in
            let body = try await newsroom.story(
                Self.content(
                    "Talks resume in the capital",
                    body: Array(repeating: "Tokayev met the envoys. Tokayev spoke of order, and Tokayev left.", count: 10)))
            let standfirst = try await newsroom.story(
                Self.content("Markets steady", standfirst: "Tokayev names a new cabinet"))
            let headline = try await newsroom.story(Self.content("Tokayev declares an emergency"))
            _ = try await newsroom.story(Self.content("Nothing about him at all"))
            #expect(try await find(StoryQuery(text: "Tokayev"), newsroom) == [headline.id, standfirst.id, body.id])
            // Newest first when asked, whatever the rank.
            #expect(
                try await find(StoryQuery(text: "tokayev", order: .newest), newsroom)
                    == [headline.id, standfirst.id, body.id])
            #expect(
                try await find(StoryQuery(text: "tokayev", order: .updated), newsroom)
                    == [headline.id, standfirst.id, body.id])
            // Both words must be there; a phrase must be one; a word can be excluded.
            #expect(try await find(StoryQuery(text: "Tokayev emergency"), newsroom) == [headline.id])
            #expect(try await find(StoryQuery(text: "\"declares an emergency\""), newsroom) == [headline.id])
            #expect(try await find(StoryQuery(text: "\"emergency declares\""), newsroom) == [])
            #expect(try await find(StoryQuery(text: "Tokayev -emergency -cabinet"), newsroom) == [body.id])
            #expect(try await find(StoryQuery(text: "cabinet or emergency"), newsroom).count == 2)
            // Where the head holds every word, a story ranks by it; where the body is needed, after,
            // newest first.
            let both = try await newsroom.story(Self.content("Tokayev's cabinet meets", body: ["Nothing more."]))
            let split = try await newsroom.story(Self.content("Tokayev speaks", body: ["His cabinet met."]))
            #expect(try await find(StoryQuery(text: "Tokayev cabinet"), newsroom) == [both.id, standfirst.id, split.id])
        }
    }

    @Test func wordsAreStemmedInTheStorysLanguage() async throws {
        try await Newsroom.with { newsroom in
            let english = try await newsroom.story(Self.content("Protesters storm the mayor's offices"))
            let german = try await newsroom.story(
                Self.content("Demonstranten stürmen die Häuser der Regierung", language: "de"))
            let french = try await newsroom.story(Self.content("Les manifestants envahissent la mairie", language: "fr-CA"))
            // No language: words as they are written, no stemming.
            let unknown = try await newsroom.story(Self.content("Protesters gather again", language: nil))
            // A language PostgreSQL has no configuration for is read as `simple` too.
            let welsh = try await newsroom.story(Self.content("Protesters in Cardiff", language: "cy"))

            #expect(Set(try await find(StoryQuery(text: "protest"), newsroom)) == [english.id])
            #expect(Set(try await find(StoryQuery(text: "protesters"), newsroom)) == [english.id, unknown.id, welsh.id])
            #expect(try await find(StoryQuery(text: "Haus"), newsroom) == [german.id])
            #expect(try await find(StoryQuery(text: "manifestant"), newsroom) == [french.id])
            var french2 = StoryQuery(text: "protesters")
            french2.language = "en"
            #expect(try await find(french2, newsroom) == [english.id])
            french2.text = "manifestants"
            french2.language = "fr"
            #expect(try await find(french2, newsroom) == [french.id])

            let configs = try await newsroom.client.query(
                "SELECT config FROM story_search ORDER BY config", logger: newsroom.logger
            ).decode(String.self).reduce(into: []) { $0.append($1) }
            #expect(configs == ["english", "french", "german", "simple", "simple"])
        }
    }

    @Test func bylinesSlugsCaptionsAndKeywordsAreSearched() async throws {
        try await Newsroom.with { newsroom in
            let almaty = try await newsroom.story()
            let byline = try await newsroom.story(Self.content("Markets", bylines: ["Olzhas Auyezov"]))
            var page = Self.content("A page with links")
            page.teasers = [Teaser(headline: "Moscow sends envoys", standfirst: "Lavrov flies out")]
            _ = try await newsroom.story(page)
            for (words, expected) in [
                ("kazakhstan-protests-almaty", [almaty.id]), ("Auyezov", [byline.id]), ("CSTO", [almaty.id]),
                ("Aktobe", [almaty.id]), ("\"fuel price\"", [almaty.id]), ("paratrooper", [almaty.id]),
                // The page's teasers are other stories' headlines: not this story's words.
                ("Moscow envoys", []), ("Lavrov", []),
            ] as [(String, [UUID])] {
                #expect(try await find(StoryQuery(text: words), newsroom) == expected, "\(words)")
            }
        }
    }

    @Test func snippetsMarkTheWordsAndEscapeTheCopy() async throws {
        try await Newsroom.with { newsroom in
            let almaty = try await newsroom.story()
            _ = try await newsroom.story(
                Self.content(
                    "<script>alert(1)</script> Almaty & \u{E000}more\u{E001}",
                    body: ["A lead with <b>markup</b> about Almaty and the troops."]))
            var page = try await StoryPages.pages(
                StoryQuery(text: "almaty troops"), database: newsroom.database, logger: newsroom.logger
            ).joined().map { $0 }
            #expect(page.count == 2)
            // The Almaty story first, the made-up one second.
            if page[0]["id"] != .string(almaty.id.uuidString.lowercased()) { page.reverse() }
            guard case .object(let first)? = page[0]["snippets"], case .object(let second)? = page[1]["snippets"] else {
                Issue.record("no snippets: \(page)")
                return
            }
            #expect(first["headline"] == .string("Fresh violence in <mark>Almaty</mark> as Russia sends paratroopers to Kazakhstan"))
            guard case .string(let lead)? = first["lead"] else { return #expect(Bool(false), "no lead snippet") }
            #expect(lead.contains("<mark>Almaty</mark>") && !lead.contains("troops"), "\(lead)")
            #expect(second["headline"] == .string("&lt;script&gt;alert(1)&lt;/script&gt; <mark>Almaty</mark> &amp; more"))
            // PostgreSQL leaves the copy's tags out of a passage; whatever it keeps is escaped.
            #expect(second["lead"] == .string("A lead with  markup  about <mark>Almaty</mark> and the <mark>troops</mark>."))
            // Neither head holds both words: both rank 0, found by their bodies.
            #expect(page[0]["rank"] == .number(0) && page[1]["rank"] == .number(0))
            let ranked = try await StoryPages.pages(
                StoryQuery(text: "almaty"), database: newsroom.database, logger: newsroom.logger
            ).joined().compactMap { (fields: [String: JSONValue]) -> Double? in
                if case .number(let rank)? = fields["rank"] { rank } else { nil }
            }
            #expect(ranked.count == 2 && ranked.allSatisfy { $0 > 0 })
            // Without words, a summary has neither.
            let plain = try await StoryPages.pages(database: newsroom.database, logger: newsroom.logger).joined().first
            #expect(plain?["snippets"] == nil && plain?["rank"] == nil)
            #expect(Set((plain ?? [:]).keys).isSubset(of: [
                "id", "slug", "headline", "state", "desk", "assignee", "urgency", "source", "language", "embargo",
                "version", "createdAt", "updatedAt", "publishedAt",
            ]))
        }
    }

    /// Each filter alone and with words finds exactly the stories it should.
    @Test func everyFilterFindsWhatItShould() async throws {
        try await Newsroom.with { newsroom in
            _ = try await DeskStore(database: newsroom.database).add("world", title: "World", by: newsroom.admin, logger: newsroom.logger)
            let credited = Picture(caption: "A square", creditline: "Reuters")
            let uncredited = Picture(caption: "A square")
            let future = Date().addingTimeInterval(86_400)
            let a = try await newsroom.story(
                Self.content(
                    "Almaty: curfew", language: "en-GB", source: "Reuters", bylines: ["Olzhas Auyezov"],
                    keywords: ["Kazakhstan"], urgency: 2, pictures: [credited]))
            let b = try await newsroom.story(
                Self.content(
                    "Almaty: airport", language: "en", source: "AP", bylines: ["Tamara Vaal"], keywords: ["Aviation"],
                    urgency: 5, embargo: future, pictures: [uncredited]))
            let c = try await newsroom.story(
                Self.content("Berlin: talks", language: "de", source: "dpa", keywords: ["kazakhstan"], urgency: 8))
            let d = try await newsroom.story(Self.content("Almaty: markets", source: "reuters"), through: [.submit])
            let e = try await newsroom.story(
                Self.content("Almaty: sport", source: "AFP"), through: [.submit, .approve, .publish])
            _ = try await newsroom.stories.assign(
                a.id, Assignment(desk: .set("world"), assignee: .set("ed")), ifVersion: 1, by: newsroom.editor,
                logger: newsroom.logger)
            _ = try await newsroom.stories.assign(
                c.id, Assignment(desk: .set("world")), ifVersion: 1, by: newsroom.editor, logger: newsroom.logger)
            // Times set apart, as if the stories had come in over three days.
            let day: TimeInterval = 86_400
            let base = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01
            for (index, id) in [a.id, b.id, c.id, d.id, e.id].enumerated() {
                let created = base.addingTimeInterval(Double(index) * day / 2)
                try await newsroom.client.query(
                    """
                    UPDATE stories SET created_at = \(created), updated_at = \(base.addingTimeInterval(day * 3 - Double(index) * day / 2)),
                        published_at = CASE WHEN published_at IS NULL THEN NULL ELSE \(created.addingTimeInterval(day)) END
                    WHERE id = \(id)
                    """, logger: newsroom.logger)
            }
            func check(_ parameters: [String: String], _ expected: Set<UUID>, sourceLocation: SourceLocation = #_sourceLocation)
                async throws
            {
                let query = try StoryQuery.parsing { parameters[$0] }
                #expect(Set(try await find(query, newsroom)) == expected, "\(parameters)", sourceLocation: sourceLocation)
                var withWords = query
                withWords.text = "almaty"
                let almaty: Set<UUID> = [a.id, b.id, d.id, e.id]
                #expect(
                    Set(try await find(withWords, newsroom)) == expected.intersection(almaty), "q=almaty \(parameters)",
                    sourceLocation: sourceLocation)
            }
            let all: Set<UUID> = [a.id, b.id, c.id, d.id, e.id]
            try await check([:], all)
            try await check(["state": "draft"], [a.id, b.id, c.id])
            try await check(["state": "in_review,published"], [d.id, e.id])
            try await check(["desk": "world"], [a.id, c.id])
            try await check(["desk": "-"], [b.id, d.id, e.id])
            try await check(["assignee": "ed"], [a.id])
            try await check(["assignee": "-"], [b.id, c.id, d.id, e.id])
            try await check(["source": "REUTERS"], [a.id, d.id])
            try await check(["byline": "tamara vaal"], [b.id])
            try await check(["keyword": "KAZAKHSTAN"], [a.id, c.id])
            try await check(["language": "en"], [a.id, b.id, d.id, e.id])
            try await check(["language": "en-gb"], [a.id])
            try await check(["urgencyMin": "2", "urgencyMax": "5"], [a.id, b.id])
            try await check(["urgencyMin": "6"], [c.id])
            try await check(["createdSince": "2026-01-01T12:00:00Z"], [b.id, c.id, d.id, e.id])
            try await check(["createdSince": "2026-01-01T12:00:00Z", "createdUntil": "2026-01-02T12:00:00Z"], [b.id, c.id])
            try await check(["updatedSince": "2026-01-03T00:00:00Z"], [a.id, b.id, c.id])
            try await check(["updatedUntil": "2026-01-02T12:00:00Z"], [e.id])
            try await check(["publishedSince": "2026-01-01T00:00:00Z"], [e.id])
            try await check(["publishedUntil": "2026-01-01T00:00:00Z"], [])
            try await check(["embargoed": "true"], [b.id])
            try await check(["embargoed": "false"], [a.id, c.id, d.id, e.id])
            try await check(["uncreditedPictures": "true"], [b.id])
            try await check(["uncreditedPictures": "false"], [a.id, c.id, d.id, e.id])
            try await check(["state": "draft", "desk": "world", "keyword": "kazakhstan", "urgencyMax": "3"], [a.id])
        }
    }

    @Test func badFiltersAreRefusedByName() throws {
        for (parameters, field) in [
            (["state": "drafty"], "state"), (["state": "draft,"], "state"), (["urgencyMin": "0"], "urgencyMin"),
            (["urgencyMax": "10"], "urgencyMax"), (["urgencyMin": "x"], "urgencyMin"),
            (["createdSince": "yesterday"], "createdSince"), (["embargoed": "yes"], "embargoed"),
            (["order": "oldest"], "order"), (["order": "rank"], "order"), (["language": "english!"], "language"),
            (["q": String(repeating: "a", count: 201)], "q"), (["q": "a\u{0}b"], "q"), (["q": "\u{84}"], "q"),
            (["desk": ""], "desk"), (["source": String(repeating: "s", count: 256)], "source"),
            (["publishedUntil": "2026-02-30T00:00:00Z"], "publishedUntil"),
        ] as [([String: String], String)] {
            let error = #expect(throws: WiredeskError.self, "\(parameters)") { try StoryQuery.parsing { parameters[$0] } }
            #expect(error?.fields.first?.field == field || error?.message.hasPrefix("\(field):") == true, "\(String(describing: error))")
        }
        // An empty or blank search box is no words.
        #expect(try StoryQuery.parsing { $0 == "q" ? "" : nil } == StoryQuery())
        #expect(try StoryQuery.parsing { $0 == "q" ? " \t " : nil } == StoryQuery())
        // A cursor belongs to its order.
        let id = UUID()
        let rank = StoryQuery.Cursor(order: .rank, rank: 0.25, micros: 1_767_225_600_000_000, id: id)
        #expect(try StoryQuery.Cursor(token: rank.token, order: .rank) == rank)
        #expect(throws: WiredeskError.self) { try StoryQuery.Cursor(token: rank.token, order: .newest) }
        let updated = StoryQuery.Cursor(order: .updated, micros: 5, id: id)
        #expect(try StoryQuery.Cursor(token: updated.token, order: .updated) == updated)
        #expect(throws: WiredeskError.self) { try StoryQuery.Cursor(token: updated.token, order: .rank) }
    }

    /// Pages in every order, read while other stories are being added: each story that was there
    /// when the reading began is read once, and none twice.
    @Test func pagesNeitherSkipNorRepeatWhileStoriesAreAdded() async throws {
        try await Newsroom.with { newsroom in
            var before: [UUID] = []
            for index in 0..<45 {
                // Ranks differ and tie: the Almaty word once or twice, in the headline or the body.
                let headline = index % 3 == 0 ? "Almaty update \(index)" : "Update \(index)"
                let body = index % 2 == 0 ? ["Almaty again."] : ["Almaty. Almaty."]
                before.append(try await newsroom.story(Self.content(headline, body: body)).id)
            }
            for order in StoryQuery.Order.allCases {
                let query = StoryQuery(text: "almaty", order: order)
                let search = StorySearch(database: newsroom.database)
                var seen: [UUID] = []
                var cursor: StoryQuery.Cursor?
                let adding = Task {
                    for index in 0..<20 {
                        _ = try await newsroom.story(Self.content("Almaty late \(order) \(index)", body: ["Almaty."]))
                    }
                }
                repeat {
                    let page = try await search.page(
                        query, after: cursor, limit: 4, by: newsroom.editor, logger: newsroom.logger)
                    for item in page.items {
                        let fields = try JSONCoding.decode([String: JSONValue].self, from: Data(buffer: item))
                        if case .string(let id)? = fields["id"] { seen.append(UUID(uuidString: id)!) }
                    }
                    cursor = page.next
                    if let next = cursor { #expect(try StoryQuery.Cursor(token: next.token, order: order) == next) }
                } while cursor != nil
                try await adding.value
                #expect(Set(seen).count == seen.count, "\(order): a story was read twice")
                #expect(Set(before).isSubset(of: Set(seen)), "\(order): \(Set(before).subtracting(seen).count) skipped")
            }
        }
    }
}
