import Foundation
import PropertyBased
import Testing
import WiredeskTestSupport

@testable import WiredeskCore

/// The API's audit pages write each event's time from PostgreSQL's microseconds: it must be the
/// text the Core's own encoder writes for the same instant, at the edges of days, years and the
/// calendar, and for any instant a trail can hold.
@Suite struct EventJSONTests {
    /// Microseconds since 2000-01-01 UTC, as PostgreSQL stores a timestamptz.
    static func micros(_ text: String) throws -> Int64 {
        let date = try #require(JSONCoding.parseDate(text))
        return Int64(((date.timeIntervalSinceReferenceDate + Self.year2000) * 1_000_000).rounded())
    }

    /// The seconds from 2000-01-01 to Foundation's reference date, 2001-01-01 (a leap year apart).
    static let year2000: Double = 366 * 86_400

    static func utc(_ micros: Int64) -> String? {
        EventJSON.utc(microsSince2000: micros)
    }

    @Test func timesAtTheEdgesOfTheCalendar() throws {
        #expect(Self.utc(0) == "2000-01-01T00:00:00.000Z")
        #expect(Self.utc(-1) == "2000-01-01T00:00:00.000Z")
        #expect(Self.utc(-501) == "1999-12-31T23:59:59.999Z")
        #expect(Self.utc(-500) == "2000-01-01T00:00:00.000Z")  // half a millisecond rounds up
        #expect(Self.utc(499) == "2000-01-01T00:00:00.000Z")
        #expect(Self.utc(500) == "2000-01-01T00:00:00.001Z")
        #expect(Self.utc(try Self.micros("2024-02-29T23:59:59.9995Z")) == "2024-03-01T00:00:00.000Z")
        #expect(Self.utc(try Self.micros("2100-02-28T12:00:00Z") + 86_400_000_000) == "2100-03-01T12:00:00.000Z")
        #expect(Self.utc(try Self.micros("2000-02-28T00:00:00Z") + 86_400_000_000) == "2000-02-29T00:00:00.000Z")
        // Year 1 as PostgreSQL and RFC 3339 count it, in the proleptic Gregorian calendar
        // (Foundation's calendar turns Julian before 1582).
        let year1: Int64 = -63_082_281_600_000_000
        #expect(Self.utc(year1) == "0001-01-01T00:00:00.000Z")
        #expect(Self.utc(year1 - 1000) == nil)
        #expect(Self.utc(try Self.micros("9999-12-31T23:59:59.999Z")) == "9999-12-31T23:59:59.999Z")
        #expect(Self.utc(try Self.micros("9999-12-31T23:59:59.999Z") + 1000) == nil)
        // PostgreSQL's infinities.
        #expect(Self.utc(.max) == nil && Self.utc(.min) == nil)
    }

    /// Fixed seed: any instant from 1600 to 9999, to the microsecond, reads as the Core writes it
    /// (before 1582 Foundation counts Julian days, PostgreSQL Gregorian ones).
    @Test func anyInstantReadsAsTheCoreWritesIt() throws {
        var rng = try #require(Xoshiro(seed: "V2lyZWRlc2sgZXZlbnQgdGltZXMgc2VlZCAyMDI2ISE="))
        let first = try Self.micros("1600-01-01T00:00:00Z")
        let last = try Self.micros("9999-12-31T23:59:59.998Z")
        let near = try Self.micros("2026-11-28T00:00:00Z")
        for index in 0..<5000 {
            // Half over the whole range, half within a few years of now.
            let micros =
                index.isMultiple(of: 2)
                ? Int64.random(in: first...last, using: &rng)
                : near + Int64.random(in: -100_000_000_000_000...100_000_000_000_000, using: &rng)
            // Foundation's Date is a Double: compare at whole milliseconds plus a quarter, where
            // its rounding cannot land on the other side of a half.
            let millis = micros - micros % 1000 + 250
            let date = Date(timeIntervalSinceReferenceDate: Double(millis) / 1_000_000 - Self.year2000)
            #expect(Self.utc(millis) == JSONCoding.formatDate(date), "at \(millis) µs")
        }
    }
}

/// Text from the trail is written as JSON requires, whatever it holds: the row here is one
/// PostgreSQL makes up, with text no validator would have let into the trail.
@Suite struct EventJSONTextTests {
    @Test func everyCharacterJSONMustEscapeIsEscaped() async throws {
        try await Newsroom.with { newsroom in
            let rows = try await newsroom.database.rows(
                """
                SELECT 7::bigint, '2026-11-28 12:00:00.0005+00'::timestamptz, E'\\x01\\x1f"\\\\/\\x7f é', 'editor', 'api',
                       NULL::text, '6f2c0e52-5b8b-4f53-9b0e-0a3c3c6d8e11'::uuid, 'edit', NULL::text, NULL::text,
                       NULL::integer, '[{"field": "headline"}]'::jsonb::text, E'line\\nbreak\\r\\ttab', NULL::text,
                       '0b7e1f3a-9c2d-4e5f-8a6b-7c8d9e0f1a2b'::uuid
                """,
                logger: newsroom.logger)
            let writer = EventJSON()
            let end = try writer.append(try #require(rows.first))
            let json = try #require(writer.buffer.getString(at: 0, length: end))
            #expect(
                json
                    == #"{"id":7,"at":"2026-11-28T12:00:00.001Z","actor":"\u0001\u001f\"\\/\#u{7f} é","actorRole":"editor","source":"api","action":"edit","storyId":"6f2c0e52-5b8b-4f53-9b0e-0a3c3c6d8e11","diff":[{"field": "headline"}],"reason":"line\nbreak\r\ttab","bulkId":"0b7e1f3a-9c2d-4e5f-8a6b-7c8d9e0f1a2b"}"#
            )
            let event = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            #expect(event["actor"] as? String == "\u{01}\u{1f}\"\\/\u{7f} é")
            #expect(event["reason"] as? String == "line\nbreak\r\ttab")
        }
    }
}
