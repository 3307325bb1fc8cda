import Foundation
import HTTPTypes
import Testing
import WiredeskCore
import WiredeskTestSupport

@testable import WiredeskAPI

/// The web desk over HTTP, as a browser uses it: cookies, forms, redirects. (The whole flow in a
/// real browser is Tests/Browser/desk_flow.py, run by scripts/test.)
@Suite struct DeskWebTests {
    /// A browser: its cookies, and the forms of the last page it read.
    final class Browser: @unchecked Sendable {
        let api: APIHarness
        var cookies: [String: String] = [:]
        var page = ""

        init(_ api: APIHarness) { self.api = api }

        @discardableResult
        func get(_ path: String) async throws -> APIHarness.Reply {
            let reply = try await api.send(.get, path, as: nil, headers: cookieHeader)
            keep(reply)
            return reply
        }

        @discardableResult
        func post(_ path: String, _ fields: [String: String], origin: String? = nil) async throws -> APIHarness.Reply {
            var headers = cookieHeader
            if let origin { headers[.origin] = origin }
            let body = fields.map { "\($0.key)=\(Self.encode($0.value))" }.joined(separator: "&")
            let reply = try await api.send(
                .post, path, as: nil, headers: headers, bytes: Array(body.utf8),
                contentType: "application/x-www-form-urlencoded")
            keep(reply)
            return reply
        }

        func signIn(_ name: String, password: String) async throws -> APIHarness.Reply {
            try await get("/desk/signin")
            return try await post(
                "/desk/signin", ["csrf": try value("csrf"), "username": name, "password": password, "next": "/desk"])
        }

        /// The value of the first input named `name` on the last page.
        func value(_ name: String, in form: String? = nil) throws -> String {
            var html = page[...]
            if let form, let start = html.range(of: "<form id=\"\(form)\"") { html = html[start.lowerBound...] }
            let pattern = "name=\"\(name)\""
            let input = try #require(html.range(of: pattern), "no \(name) on the page")
            let tag = html[..<input.upperBound].lastIndex(of: "<").map { html[$0...] } ?? html
            let tagText = tag.prefix { $0 != ">" }
            if tagText.hasPrefix("<textarea") {
                let text = tag.drop { $0 != ">" }.dropFirst().prefix { $0 != "<" }
                return Self.unescape(String(text))
            }
            let value = try #require(tagText.range(of: "value=\""), "\(name) has no value")
            return Self.unescape(String(tagText[value.upperBound...].prefix { $0 != "\"" }))
        }

        var cookieHeader: HTTPFields {
            cookies.isEmpty ? [:] : [.cookie: cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")]
        }

        private func keep(_ reply: APIHarness.Reply) {
            page = reply.text
            for field in reply.headers where field.name == .setCookie {
                let pair = field.value.prefix { $0 != ";" }
                guard let equals = pair.firstIndex(of: "=") else { continue }
                let (name, value) = (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
                if value.isEmpty { cookies[name] = nil } else { cookies[name] = value }
            }
        }

        static func encode(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .urlQueryValue) ?? ""
        }

        static func unescape(_ text: String) -> String {
            text.replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&quot;", with: "\"")
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&amp;", with: "&")
        }
    }

    static func withDesk(
        publicURL: URL? = nil, signIn: SignInLimits = SignInLimits(), _ body: @Sendable (APIHarness) async throws -> Void
    ) async throws {
        try await APIHarness.with(publicURL: publicURL, signIn: signIn) { api in
            for name in ["rita", "ed", "pat"] {
                try await api.newsroom.users.setPassword(
                    of: name, to: "password of \(name)", by: api.newsroom.admin, logger: api.newsroom.logger)
            }
            try await body(api)
        }
    }

    @Test func signingInSetsAStrictHttpOnlySessionCookieAndSigningOutEndsIt() async throws {
        try await Self.withDesk { api in
            let browser = Browser(api)
            let form = try await browser.get("/desk/signin")
            let csrfCookie = try #require(form.headers[values: .setCookie].first { $0.hasPrefix("wd_csrf=") })
            #expect(csrfCookie.contains("HttpOnly") && csrfCookie.contains("SameSite=Strict") && !csrfCookie.contains("Secure"))

            let signedIn = try await browser.signIn("rita", password: "password of rita")
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "/desk")
            let session = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("wd_session=") })
            #expect(session.contains("HttpOnly") && session.contains("SameSite=Strict") && session.contains("Path=/desk"))
            #expect(!session.contains("Secure"))

            let queue = try await browser.get("/desk")
            #expect(queue.status == .ok)
            #expect(queue.text.contains("rita (reporter)"))
            #expect(queue.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)

            #expect(try await browser.post("/desk/signout", ["csrf": try browser.value("csrf")]).status == .seeOther)
            let after = try await browser.get("/desk")
            #expect(after.status == .seeOther)
            #expect(after.headers[.location] == "/desk/signin")
        }
    }

    @Test func behindHttpsTheCookiesAreSecure() async throws {
        try await Self.withDesk(publicURL: URL(string: "https://desk.example.org")!) { api in
            let browser = Browser(api)
            _ = try await browser.get("/desk/signin")
            let reply = try await browser.post(
                "/desk/signin",
                ["csrf": try browser.value("csrf"), "username": "ed", "password": "password of ed"],
                origin: "https://desk.example.org")
            #expect(reply.status == .seeOther)
            let session = try #require(reply.headers[values: .setCookie].first { $0.hasPrefix("wd_session=") })
            #expect(session.contains("Secure"))
        }
    }

    @Test func formsWithoutTheTokenOrFromAnotherSiteAreRefused() async throws {
        try await Self.withDesk { api in
            let story = try await api.newsroom.story()
            let browser = Browser(api)
            // Sign-in itself is guarded: no token, no session.
            let forged = try await browser.post("/desk/signin", ["username": "ed", "password": "password of ed"])
            #expect(forged.status == .forbidden)
            #expect(browser.cookies["wd_session"] == nil)

            _ = try await browser.signIn("ed", password: "password of ed")
            let path = "/desk/stories/\(story.id.uuidString.lowercased())/transitions/spike"
            for (fields, origin) in [
                (["version": "1"], nil), (["version": "1", "csrf": "x"], nil),
                (["version": "1", "csrf": try await csrf(browser)], "https://evil.example"),
            ] as [([String: String], String?)] {
                let reply = try await browser.post(path, fields, origin: origin)
                #expect(reply.status == .forbidden, "\(reply.text)")
                #expect(reply.headers[.contentType] == "text/html; charset=utf-8")
            }
            #expect(try await api.newsroom.stories.story(story.id, logger: api.newsroom.logger).state == .draft)
        }
    }

    func csrf(_ browser: Browser) async throws -> String {
        try await browser.get("/desk")
        return try browser.value("csrf")
    }

    @Test func pagesAskForASignInAndComeBack() async throws {
        try await Self.withDesk { api in
            let browser = Browser(api)
            let reply = try await browser.get("/desk/stories/00000000-0000-4000-8000-000000000000/history")
            #expect(reply.status == .seeOther)
            let location = try #require(reply.headers[.location])
            #expect(location.hasPrefix("/desk/signin?next=%2Fdesk%2Fstories%2F"))
            // A script's request gets 401, not a page.
            #expect(try await api.send(.post, "/desk/stories/x/presence", as: nil, headers: [.csrfToken: "x"]).status == .unauthorized)
            // After signing in, back where it was going; never to another site.
            _ = try await browser.get(location)
            let signedIn = try await browser.post(
                "/desk/signin",
                ["csrf": try browser.value("csrf"), "username": "ed", "password": "password of ed",
                 "next": try browser.value("next")])
            #expect(signedIn.headers[.location] == "/desk/stories/00000000-0000-4000-8000-000000000000/history")
            for next in ["//evil.example", "https://evil.example/desk", "/desk/../v1/stories", "/deskx"] {
                #expect(DeskRoutes.safeNext(next) == "/desk", "\(next)")
            }
            // A bad id or a missing story is a page that says so.
            #expect(try await browser.get("/desk/stories/not-a-uuid").status == .notFound)
            #expect(try await browser.get("/desk/stories/00000000-0000-4000-8000-000000000000").status == .notFound)
        }
    }

    @Test func aFailedSignInSaysSoAndTheThrottleAnswers429() async throws {
        try await Self.withDesk(signIn: SignInLimits(perAddress: 100, perAccount: 2)) { api in
            let browser = Browser(api)
            for _ in 1...2 {
                let reply = try await browser.signIn("ed", password: "not the one")
                #expect(reply.status == .unauthorized)
                #expect(reply.text.contains("id=\"signin-error\""))
            }
            let throttled = try await browser.signIn("ed", password: "password of ed")
            #expect(throttled.status == .tooManyRequests)
            #expect(Int(throttled.headers[.retryAfter] ?? "") ?? 0 > 0)
            #expect(browser.cookies["wd_session"] == nil)
        }
    }

    @Test func theQueueListsSearchesAndOrdersTheStatesStories() async throws {
        try await Self.withDesk { api in
            let almaty = try await api.newsroom.story()
            var other = try Newsroom.almaty()
            other.headline = "Markets steady in Tokyo"
            other.urgency = 1
            let tokyo = try await api.newsroom.story(other)
            let review = try await api.newsroom.story(through: [.submit])
            let browser = Browser(api)
            _ = try await browser.signIn("ed", password: "password of ed")

            let drafts = try await browser.get("/desk")
            for id in [almaty.id, tokyo.id] { #expect(drafts.text.contains(id.uuidString.lowercased())) }
            #expect(!drafts.text.contains(review.id.uuidString.lowercased()))
            #expect(drafts.text.contains("aria-current=\"page\">Draft"))

            let inReview = try await browser.get("/desk?state=in_review")
            #expect(inReview.text.contains(review.id.uuidString.lowercased()))

            let search = try await browser.get("/desk/queue?state=draft&q=tokyo")
            #expect(search.text.contains(tokyo.id.uuidString.lowercased()))
            #expect(!search.text.contains(almaty.id.uuidString.lowercased()))
            #expect(!search.text.contains("<html"))

            let urgent = try await browser.get("/desk/queue?state=draft&order=urgent").text
            let first = try #require(urgent.range(of: tokyo.id.uuidString.lowercased()))
            let second = try #require(urgent.range(of: almaty.id.uuidString.lowercased()))
            #expect(first.lowerBound < second.lowerBound)

            #expect(try await browser.get("/desk?state=killed").status == .badRequest)
            #expect(try await browser.get("/desk?cursor=nonsense").status == .badRequest)
        }
    }

    @Test func aConflictingSaveShowsWhatChangedAndKeepsWhatWasTyped() async throws {
        try await Self.withDesk { api in
            let story = try await api.newsroom.story()
            let path = "/desk/stories/\(story.id.uuidString.lowercased())"
            let ed = Browser(api)
            let rita = Browser(api)
            _ = try await ed.signIn("ed", password: "password of ed")
            _ = try await rita.signIn("rita", password: "password of rita")
            _ = try await ed.get(path)
            let edForm = try ["csrf", "version", "headline", "body", "standfirst"].map { ($0, try ed.value($0, in: "story-form")) }
            _ = try await rita.get(path)
            #expect(rita.page.contains("<span class=\"person\">ed</span>"))
            let ritaForm = try ["csrf", "version", "headline", "body"].map { ($0, try rita.value($0, in: "story-form")) }

            var fields = Dictionary(uniqueKeysWithValues: ritaForm)
            fields["headline"] = "Rita's headline"
            fields["slug"] = "kazakhstan-unrest"
            let saved = try await rita.post(path, fields)
            #expect(saved.status == .seeOther, "\(saved.text)")

            fields = Dictionary(uniqueKeysWithValues: edForm)
            fields["headline"] = "Ed's headline"
            fields["standfirst"] = "Ed's standfirst"
            let conflict = try await ed.post(path, fields)
            #expect(conflict.status == .conflict)
            #expect(conflict.text.contains("id=\"conflict\""))
            #expect(conflict.text.contains("<th scope=\"row\">headline</th><td>\(story.content.headline!)</td><td>Rita&#39;s headline</td>"))
            #expect(try ed.value("headline", in: "story-form") == "Ed's headline")
            #expect(try ed.value("standfirst", in: "story-form") == "Ed's standfirst")
            // What only Rita changed is shown as she left it, so that saving again keeps it.
            #expect(try ed.value("slug", in: "story-form") == "kazakhstan-unrest")
            #expect(try ed.value("version", in: "story-form") == "2")
            #expect(try await api.newsroom.stories.story(story.id, logger: api.newsroom.logger).content.headline == "Rita's headline")

            // Saved again, knowingly: Ed's text replaces Rita's, and nothing else changes.
            fields = try Dictionary(
                uniqueKeysWithValues: ["csrf", "version", "headline", "body", "standfirst", "slug"].map {
                    ($0, try ed.value($0, in: "story-form"))
                })
            #expect(try await ed.post(path, fields).status == .seeOther)
            let now = try await api.newsroom.stories.story(story.id, logger: api.newsroom.logger)
            #expect(now.content.headline == "Ed's headline" && now.content.standfirst == "Ed's standfirst")
            #expect(now.content.slug == "kazakhstan-unrest")
            #expect(now.content.body == story.content.body)
            #expect(now.content.pictures == story.content.pictures)
        }
    }

    @Test func aRefusedSaveOrTransitionShowsTheRuleAndWritesNothing() async throws {
        try await Self.withDesk { api in
            let story = try await api.newsroom.story(through: [.submit])
            let path = "/desk/stories/\(story.id.uuidString.lowercased())"
            let ed = Browser(api)
            _ = try await ed.signIn("ed", password: "password of ed")
            _ = try await ed.get(path)
            let version = try ed.value("version", in: "story-form")
            let csrf = try ed.value("csrf", in: "story-form")

            let refused = try await ed.post(path + "/transitions/request_changes", ["csrf": csrf, "version": version, "reason": " "])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("<span class=\"rule\">Rule: request_changes.reason</span>"))

            var fields = ["csrf": csrf, "version": version, "urgency": "eleven", "headline": String(repeating: "x", count: 2000)]
            fields["body"] = try ed.value("body", in: "story-form")
            let invalid = try await ed.post(path, fields)
            #expect(invalid.status == .unprocessableContent)
            #expect(invalid.text.contains("id=\"urgency-error\""))
            #expect(try ed.value("urgency", in: "story-form") == "eleven")
            #expect(try await api.newsroom.stories.story(story.id, logger: api.newsroom.logger).version == story.version)

            let done = try await ed.post(path + "/transitions/request_changes", ["csrf": csrf, "version": version, "reason": "Needs a second source"])
            #expect(done.status == .seeOther)
            #expect(done.headers[.location] == path + "?done=request_changes")
            let page = try await ed.get(try #require(done.headers[.location]))
            #expect(page.text.contains("id=\"story-state\" class=\"state state-draft\">Draft"))
            let events = try await api.newsroom.events(of: story.id)
            #expect(events.last?.action == "request_changes" && events.last?.source == .desk)
        }
    }

    @Test func theHistoryListsEventsAndTheDiffMarksChangedWords() async throws {
        try await Self.withDesk { api in
            let story = try await api.newsroom.story()
            var patch = ["headline": JSONValue.string("Police detain 30 protesters")]
            let v2 = try await api.newsroom.stories.edit(
                story.id, patch: .object(patch), ifVersion: 1, by: api.newsroom.reporter, logger: api.newsroom.logger)
            patch["headline"] = .string("Police detain 300 protesters")
            _ = try await api.newsroom.stories.edit(
                story.id, patch: .object(patch), ifVersion: v2.version, by: api.newsroom.reporter, logger: api.newsroom.logger)
            let browser = Browser(api)
            _ = try await browser.signIn("ed", password: "password of ed")
            let path = "/desk/stories/\(story.id.uuidString.lowercased())"
            let history = try await browser.get(path + "/history")
            #expect(history.text.components(separatedBy: "<li class=\"event\">").count - 1 == 3)
            #expect(history.text.contains("<option value=\"3\" selected>"))
            let diff = try await browser.get(path + "/diff?from=2&to=3")
            #expect(diff.text.contains("Police detain <del>30 </del>protesters"))
            #expect(diff.text.contains("Police detain <ins>300 </ins>protesters"))
            #expect(try await browser.get(path + "/diff?from=2&to=9").status == .notFound)
            #expect(try await browser.get(path + "/diff?from=x&to=2").status == .badRequest)
        }
    }

    @Test func theQueueHearsOfStoryChangesAsTheyCommit() async throws {
        try await Self.withDesk { api in
            let browser = Browser(api)
            _ = try await browser.signIn("ed", password: "password of ed")
            let cookie = "Cookie: " + (browser.cookieHeader[.cookie] ?? "")
            let events = try EventStreamClient(port: try #require(api.client.port), path: "/desk/events", headers: [cookie])
            defer { events.close() }
            #expect(try await onOwnThread { try events.status() } == 200)
            // The stream is open once its first line came; a change after that is heard.
            _ = try await onOwnThread { try events.next() }
            let story = try await api.newsroom.story()
            let event = try await onOwnThread { try events.nextEvent(timeout: .seconds(20)) }
            #expect(event?.name == "story")
            #expect(event?.data.contains(story.id.uuidString.lowercased()) == true)
        }
    }
}

@Suite struct StoryFormTests {
    @Test func anUntouchedFormChangesNothing() throws {
        let almaty = try Newsroom.almaty()
        let form = StoryForm(almaty)
        #expect(form.body.contains("\n\n## "))
        #expect(try StoryForm.patch(from: almaty, to: try form.applied(to: almaty)) == .object([:]))
    }

    @Test func changedFieldsAreReadBackAndOnlyThey() throws {
        var content = try Newsroom.almaty()
        content.embargo = Date(timeIntervalSince1970: 1_641_538_800.123)
        var form = StoryForm(content)
        form.headline = "  Police detain protesters  "
        form.body = "First paragraph.\n\n## Aftermath\n\nSecond paragraph,\non two lines.\n\n\n"
        form.bylines = "Olzhas Auyezov, Reuters\n\nMariya Gordeyeva"
        form.keywords = "Kazakhstan, , protests "
        let changed = try form.applied(to: content)
        #expect(changed.headline == "Police detain protesters")
        #expect(
            changed.body == [
                BodyBlock(.paragraph, "First paragraph."), BodyBlock(.crosshead, "Aftermath"),
                BodyBlock(.paragraph, "Second paragraph,\non two lines."),
            ])
        #expect(changed.bylines == [Byline(name: "Olzhas Auyezov", title: "Reuters"), Byline(name: "Mariya Gordeyeva")])
        #expect(changed.keywords == ["Kazakhstan", "protests"])
        // The embargo's text was not touched: its milliseconds stay.
        #expect(changed.embargo == content.embargo)
        let patch = try StoryForm.patch(from: content, to: changed)
        guard case .object(let fields) = patch else { Issue.record("not an object"); return }
        #expect(Set(fields.keys) == ["headline", "body", "bylines", "keywords"])
    }

    @Test func textTheFormCannotReadIsRefusedNamingTheControl() throws {
        let content = try Newsroom.almaty()
        var form = StoryForm(content)
        form.urgency = "eleven"
        form.embargo = "tomorrow"
        let error = #expect(throws: WiredeskError.self) { try form.applied(to: content) }
        #expect(Set(error?.fields.map(\.field) ?? []) == ["urgency", "embargo"])
        #expect(StoryForm.control(for: "pictures[0].creditline") == "picture_0_creditline")
        #expect(StoryForm.control(for: "pictures[2].altText") == "picture_2_alt")
        #expect(StoryForm.control(for: "body[3].text") == "body")
        #expect(StoryForm.control(for: "dateline.date") == "dateline_date")
    }
}
