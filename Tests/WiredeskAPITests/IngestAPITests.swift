import Foundation
import HTTPTypes
import Testing
import WiredeskCore
import WiredeskTestSupport

@Suite struct IngestAPITests {
    @Test func wireCopyInOverHTTPAndNinjsOut() async throws {
        try await APIHarness.with { api in
            let payload = try TestDatabase.fixture("reuters-almaty-2022-01-07.txt")
            let created = try await api.send(
                .post, "/v1/ingest?fileName=almaty.txt", as: "ed", bytes: Array(payload), contentType: "text/plain; charset=utf-8"
            )
            #expect(created.status == .created, "\(created.text)")
            let outcome = try created.json
            let id = try #require(outcome["storyId"] as? String)
            #expect(outcome["status"] as? String == "created")
            #expect(outcome["format"] as? String == "wire-text")
            #expect(created.headers[.location] == "/v1/stories/\(id)")

            let again = try await api.send(.post, "/v1/ingest", as: "ed", bytes: Array(payload), contentType: "text/plain")
            #expect(again.status == .ok)
            #expect(try again.json["status"] as? String == "duplicate")
            #expect(try again.json["storyId"] as? String == id)

            let story = try await api.send(.get, "/v1/stories/\(id)", as: "aud")
            #expect((try story.json["dateline"] as? [String: String])?["place"] == "ALMATY")
            #expect((try story.json["teasers"] as? [Any])?.count == 20)

            let ninjs = try await api.send(.get, "/v1/stories/\(id)?format=ninjs", as: "aud")
            #expect(ninjs.status == .ok)
            #expect(ninjs.headers[.contentType]?.hasPrefix("application/ninjs+json") == true)
            #expect(try ninjs.json["located"] as? String == "ALMATY")
            #expect(try ninjs.json["copyrightHolder"] as? String == "Reuters")
            let byAccept = try await api.send(.get, "/v1/stories/\(id)", as: "aud", headers: [.accept: "application/ninjs+json"])
            #expect(try byAccept.json["uri"] as? String == "urn:wiredesk:story:\(id)")
            let ninjs2 = try await api.send(.get, "/v1/stories/\(id)?format=ninjs2", as: "aud")
            #expect(try ninjs2.json["copyrightholder"] as? String == "Reuters")
            for (reply, version) in [(ninjs, Ninjs.ExportVersion.v3), (ninjs2, .v2)] {
                let document = try JSONCoding.decode(JSONValue.self, from: reply.body)
                let (ok, report) = try await NinjsValidator.validate([document], as: version)
                #expect(ok, "\(report)")
            }
            let notAcceptable = try await api.send(
                .get, "/v1/stories/\(id)?format=ninjs", as: "aud", headers: [.accept: "application/json"])
            #expect(notAcceptable.status == .notAcceptable)

            let provenance = try await api.send(.get, "/v1/stories/\(id)/provenance", as: "aud")
            let items = try #require(try JSONSerialization.jsonObject(with: provenance.body) as? [[String: Any]])
            #expect(items.count == 1)
            #expect(items[0]["fileName"] as? String == "almaty.txt")
            let itemID = try #require(items[0]["id"] as? String)
            let original = try await api.send(.get, "/v1/ingest/\(itemID)/payload", as: "aud")
            #expect(original.status == .ok)
            #expect(original.body == payload)
            #expect(original.headers[.contentType] == "text/plain; charset=utf-8")

            let history = try await api.send(.get, "/v1/stories/\(id)/history", as: "aud")
            let events = try #require(try history.json["events"] as? [[String: Any]])
            #expect(events.map { $0["source"] as? String } == ["ingest"])
        }
    }

    @Test func ninjsJSONIsKeptByteForByte() async throws {
        try await APIHarness.with { api in
            let payload = try TestDatabase.fixture("ninjs/examples/dpa_text.json")
            let created = try await api.send(.post, "/v1/ingest", as: "ed", bytes: Array(payload))
            #expect(created.status == .created, "\(created.text)")
            #expect(try created.json["format"] as? String == "ninjs-2")
            let id = try #require(try created.json["storyId"] as? String)
            let itemID = try #require(try created.json["itemId"] as? String)
            let original = try await api.send(.get, "/v1/ingest/\(itemID)/payload", as: "aud")
            #expect(original.body == payload)
            let story = try await api.send(.get, "/v1/stories/\(id)", as: "aud")
            #expect(try story.json["headline"] as? String == "Faktencheck Derby-Elfmeter: Hat Schiedsrichter Zwayer recht?")
        }
    }

    @Test func ingestRefusesWhatItCannotTake() async throws {
        try await APIHarness.with { api in
            let pdf = try await api.send(.post, "/v1/ingest", as: "ed", json: "%PDF-1.7", contentType: "application/pdf")
            #expect(pdf.status == .unsupportedMediaType)
            #expect(try pdf.problem.type == "unsupported-media-type")
            // XML is read, as NITF or NewsML-G2 by its root element: any other root is refused by name.
            let xml = try await api.send(.post, "/v1/ingest", as: "ed", json: "<item/>", contentType: "application/xml")
            #expect(xml.status == .unprocessableContent)
            #expect(xml.text.contains("<item> is not a format Wiredesk reads"), "\(xml.text)")
            let anonymous = try await api.send(.post, "/v1/ingest", as: nil, json: "x", contentType: "text/plain")
            #expect(anonymous.status == .unauthorized)
            let auditor = try await api.send(.post, "/v1/ingest", as: "aud", json: "ALMATY: x", contentType: "text/plain")
            #expect(auditor.status == .forbidden)
            // The request is well-formed; the agency's item in it cannot be read.
            let broken = try await api.send(.post, "/v1/ingest", as: "ed", json: "{\"uri\": ")
            #expect(broken.status == .unprocessableContent)
            let flag = try await api.send(.post, "/v1/ingest?splitTeasers=maybe", as: "ed", json: "x", contentType: "text/plain")
            #expect(flag.status == .badRequest)
            #expect(try flag.json["field"] as? String == "splitTeasers")
            for badName in ["a%00b.txt", "two%0Alines.txt", String(repeating: "n", count: 256)] {
                let named = try await api.send(
                    .post, "/v1/ingest?fileName=\(badName)", as: "ed", json: "ALMATY: x", contentType: "text/plain")
                #expect(named.status == .unprocessableContent, "fileName \(badName)")
                #expect(try named.json["field"] as? String == "fileName")
            }
            // A JSON body is a ninjs item, as the spec says: it is not read as wire copy on request.
            let forced = try await api.send(.post, "/v1/ingest?format=wire-text", as: "ed", json: "{}")
            #expect(forced.status == .unprocessableContent)
            #expect(try forced.json["field"] as? String == "format")
            let noURI = try await api.send(.post, "/v1/ingest", as: "ed", json: "{}")
            #expect(noURI.status == .unprocessableContent)
            // A reporter files copy but does not update another story through its agency uri.
            let dpa = try TestDatabase.fixture("ninjs/examples/dpa_text.json")
            #expect(try await api.send(.post, "/v1/ingest", as: "ed", bytes: Array(dpa)).status == .created)
            var newer = try #require(try JSONSerialization.jsonObject(with: dpa) as? [String: Any])
            newer["version"] = "99"
            let update = try await api.send(
                .post, "/v1/ingest", as: "rita", bytes: Array(try JSONSerialization.data(withJSONObject: newer)))
            #expect(update.status == .forbidden)
            #expect(try update.json["rule"] as? String == "wire-update.role")
            #expect(try await api.newsroom.count("SELECT count(*) FROM ingest_items") == 1)
            let missing = try await api.send(.get, "/v1/ingest/\(UUID().uuidString)/payload", as: "ed")
            #expect(missing.status == .notFound)
            #expect(try await api.newsroom.count("SELECT count(*) FROM stories") == 1)
        }
    }

    @Test func aNewsMessageAnswersWithEveryItemsOutcome() async throws {
        try await APIHarness.with { api in
            let message = try TestDatabase.fixture("newsml-g2/message-two-texts.xml")
            let created = try await api.send(
                .post, "/v1/ingest", as: "ed", bytes: Array(message), contentType: NewsMLG2.newsMessageMediaType)
            #expect(created.status == .created, "\(created.text)")
            #expect(created.headers[.location] == nil)
            let items = try #require(try created.json["items"] as? [[String: Any]])
            #expect(items.map { $0["status"] as? String } == ["created", "created"])
            #expect(items.map { $0["format"] as? String } == ["newsml-g2", "newsml-g2"])

            let again = try await api.send(.post, "/v1/ingest", as: "ed", bytes: Array(message), contentType: "text/xml")
            #expect(again.status == .ok)
            let repeated = try #require(try again.json["items"] as? [[String: Any]])
            #expect(repeated.map { $0["status"] as? String } == ["duplicate", "duplicate"])

            // One item alone answers as one outcome, with its story's location.
            let nitf = try TestDatabase.fixture("nitf/reuters-almaty-2022-01-07.nitf.xml")
            let one = try await api.send(.post, "/v1/ingest", as: "ed", bytes: Array(nitf), contentType: "application/nitf+xml")
            #expect(one.status == .created, "\(one.text)")
            #expect(try one.json["format"] as? String == "nitf")
            let id = try #require(try one.json["storyId"] as? String)
            #expect(one.headers[.location] == "/v1/stories/\(id)")
            let story = try await api.send(.get, "/v1/stories/\(id)", as: "aud")
            #expect((try story.json["subjects"] as? [[String: Any]])?.first?["code"] as? String == "subj:11000000")
            let pictures = try #require(try story.json["pictures"] as? [[String: Any]])
            #expect((pictures.first?["renditions"] as? [[String: Any]])?.first?["name"] as? String == "highRes")

            let xxe = #"<!DOCTYPE nitf [<!ENTITY e SYSTEM "file:///etc/passwd">]><nitf>&e;</nitf>"#
            let refused = try await api.send(.post, "/v1/ingest", as: "ed", json: xxe, contentType: "application/xml")
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("entity declarations are refused"))
            #expect(!refused.text.contains("root:x:0:0"))
            #expect(try await api.newsroom.count("SELECT count(*) FROM stories") == 3)
        }
    }
}
