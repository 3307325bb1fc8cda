import Crypto
import Foundation
import Logging
import PostgresNIO

/// The tamper-evident chain over the audit trail. Every event is bound, in a canonical encoding of
/// all its fields, into one SHA-256 chain: the hash at position p is SHA-256(hash at p-1, event p),
/// from 32 zero bytes. A sealer chains events shortly after they commit (`seal`), in the order
/// their transactions finished, and appends the hashes to `audit_seals`; writers never wait for it.
///
/// `verify` recomputes the chain from the events themselves, so an event edited, deleted,
/// inserted or reordered without re-hashing is named. Whoever can rewrite the seals too (a
/// superuser) could re-hash everything after a change; a head kept outside the database
/// (`head`, printed by `wiredesk audit anchor`) catches that, and a tail cut short, because the
/// recomputed hash at its position no longer matches.
public enum AuditChain {
    /// Any fixed number; it only has to be the same for every Wiredesk process.
    static let sealerLock: Int64 = 0x5744_5345_414C_4552  // "WDSEALER"
    /// A seal holds at most this many events, and stops past this many bytes of them.
    static let sealLimit = 1000
    static let sealBytes = 8 << 20

    /// A position in the chain and the hash there: `1042:9f86d0…` (64 hex digits).
    public struct Head: Sendable, Equatable, CustomStringConvertible, Encodable {
        public var position: Int64
        public var hash: [UInt8]

        public init(position: Int64, hash: [UInt8]) {
            self.position = position
            self.hash = hash
        }

        public init(parsing text: String) throws {
            let bad = WiredeskError.malformed(field: "anchor", "expected POSITION:HASH as printed by `wiredesk audit anchor`")
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let position = ASCII.number(parts[0].utf8, maxDigits: 18), position >= 1,
                let hash = Self.bytes(hex: parts[1]), hash.count == 32
            else { throw bad }
            self.position = position
            self.hash = hash
        }

        public var description: String { "\(position):\(Self.hex(hash))" }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(description)
        }

        static func hex(_ bytes: [UInt8]) -> String {
            let digits = Array("0123456789abcdef".utf8)
            var text = [UInt8]()
            text.reserveCapacity(bytes.count * 2)
            for byte in bytes {
                text.append(digits[Int(byte >> 4)])
                text.append(digits[Int(byte & 0x0F)])
            }
            return String(decoding: text, as: UTF8.self)
        }

        static func bytes(hex: Substring) -> [UInt8]? {
            var bytes: [UInt8] = []
            var high: UInt8?
            for character in hex.utf8 {
                let nibble: UInt8
                switch character {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = character - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = character - UInt8(ascii: "a") + 10
                default: return nil
                }
                if let value = high {
                    bytes.append(value << 4 | nibble)
                    high = nil
                } else {
                    high = nibble
                }
            }
            return high == nil ? bytes : nil
        }
    }

    // MARK: Sealing

    /// Chains every event that can be chained now, a seal at a time, and returns how many. Events
    /// whose transaction is younger than one still running wait for a later round, so that no
    /// commit can land before an event already sealed. Another process sealing at the same time
    /// makes this one return 0 at once.
    @discardableResult
    public static func seal(database: Database, maxSeals: Int = .max, logger: Logger) async throws -> Int {
        // Most rounds of a server's sealer find nothing new: one statement says so, where a round
        // is a transaction of five, and their wake-ups showed in the latency of every request.
        let pending = try await database.rows(
            """
            SELECT id FROM audit_events
            WHERE (txid, id) > (coalesce((SELECT last_txid FROM audit_seals ORDER BY seq DESC LIMIT 1), '0'::xid8),
                                coalesce((SELECT last_id FROM audit_seals ORDER BY seq DESC LIMIT 1), 0))
              AND txid < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY txid, id LIMIT 1
            """,
            logger: logger)
        guard !pending.isEmpty else { return 0 }
        var total = 0
        for _ in 0..<maxSeals {
            let (sealed, full) = try await database.transaction(logger: logger) { connection in
                try await sealOnce(on: connection, logger: logger)
            }
            total += sealed
            if !full { break }
        }
        return total
    }

    /// One seal, inside the caller's transaction: how many events it chained, and whether it
    /// stopped at its limit (more may be waiting).
    private static func sealOnce(on connection: PostgresConnection, logger: Logger) async throws -> (Int, Bool) {
        let locked = try await connection.rows("SELECT pg_try_advisory_xact_lock(\(sealerLock))", logger: logger)
        guard try locked.first?.decode(Bool.self) == true else { return (0, false) }
        let last = try await connection.rows(
            """
            SELECT seq, first_position + cardinality(event_ids) - 1, substring(hashes FROM octet_length(hashes) - 31),
                   last_txid::text, last_id
            FROM audit_seals ORDER BY seq DESC LIMIT 1
            """,
            logger: logger)
        var seq: Int64 = 1
        var position: Int64 = 0
        var hash = [UInt8](repeating: 0, count: 32)
        var cursor = (txid: "0", id: Int64(0))
        if let row = last.first {
            let (lastSeq, lastPosition, lastHash, txid, id) = try row.decode((Int64, Int64, Data, String, Int64).self)
            (seq, position, hash, cursor) = (lastSeq + 1, lastPosition, Array(lastHash), (txid, id))
        }
        let firstPosition = position + 1
        var ids: [Int64] = []
        var hashes: [UInt8] = []
        var bytes = 0
        let rows = try await connection.stream(
            """
            SELECT \(unescaped: eventColumns) FROM audit_events
            WHERE (txid, id) > (\(cursor.txid)::text::xid8, \(cursor.id))
              AND txid < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY audit_events.txid, audit_events.id LIMIT \(sealLimit)
            """,
            logger: logger)
        for try await row in rows {
            let event = try CanonicalEvent(row)
            hash = event.chained(after: hash)
            ids.append(event.id)
            hashes += hash
            cursor = (event.txid, event.id)
            bytes += event.bytes.count
            if bytes > sealBytes { break }
        }
        guard !ids.isEmpty else { return (0, false) }
        try await connection.rows(
            """
            INSERT INTO audit_seals (seq, first_position, event_ids, hashes, last_txid, last_id)
            VALUES (\(seq), \(firstPosition), \(ids), \(Data(hashes)), \(cursor.txid)::text::xid8, \(cursor.id))
            """,
            logger: logger)
        logger.debug("sealed audit events", metadata: ["seal": "\(seq)", "events": "\(ids.count)"])
        return (ids.count, ids.count == sealLimit || bytes > sealBytes)
    }

    /// The last sealed position and its hash, as stored; nil before the first seal.
    public static func head(database: Database, logger: Logger) async throws -> Head? {
        let rows = try await database.rows(
            """
            SELECT first_position + cardinality(event_ids) - 1, substring(hashes FROM octet_length(hashes) - 31)
            FROM audit_seals ORDER BY seq DESC LIMIT 1
            """,
            logger: logger)
        guard let (position, hash) = try rows.first?.decode((Int64, Data).self) else { return nil }
        return Head(position: position, hash: Array(hash))
    }

    // MARK: Verifying

    public struct Report: Sendable, Encodable {
        /// Events checked against the chain.
        public var verified: Int64 = 0
        public var seals: Int64 = 0
        /// The recomputed head; nil when nothing is sealed.
        public var head: Head?
        /// Events committed but not yet chained, and the time of the oldest.
        public var unsealed: Int64 = 0
        public var oldestUnsealed: Date?
        /// Whether the anchor given was found at its position with its hash.
        public var anchorMatched: Bool?
    }

    /// The first place where the trail and its chain disagree.
    public struct Broken: Error, Sendable, Encodable, CustomStringConvertible {
        /// The event at fault, when one can be named; the chain position where it was found.
        public var eventId: Int64?
        public var position: Int64?
        public var message: String
        public var description: String { message }
    }

    /// Recomputes the chain from the events and compares it with the seals, a seal at a time (memory
    /// does not grow with the trail). `since`: start at the seal holding that event, trusting the
    /// hash before it. `anchor`: the chain must reach its position with its hash. Throws `Broken`
    /// naming the first event at fault.
    public static func verify(
        since: Int64? = nil, anchor: Head? = nil, database: Database, logger: Logger
    ) async throws -> Report {
        try await database.transaction(logger: logger) { connection in
            // One snapshot for the whole walk: seals written meanwhile are not half seen.
            try await connection.rows("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            return try await verify(since: since, anchor: anchor, on: connection, logger: logger)
        }
    }

    /// The trail has `found` where the seal has `expected` (nil: past the seal's end). An event no
    /// seal holds was added; one that a seal holds was moved, and the event expected there is named.
    private static func misplaced(
        _ found: Int64, at position: Int64, expected: Int64?, laterInSeal: Bool, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Broken {
        var sealed = laterInSeal
        if !sealed {
            let seals = try await connection.rows(
                "SELECT 1 FROM audit_seals WHERE \(found) = ANY (event_ids)", logger: logger)
            sealed = !seals.isEmpty
        }
        guard sealed else {
            return Broken(
                eventId: found, position: position,
                message: "event \(found) is not in the chain: it was added to the trail outside the write path")
        }
        guard let expected else {
            return Broken(
                eventId: found, position: position,
                message: "event \(found) is out of place: the trail orders it at position \(position), the chain in another seal")
        }
        return Broken(
            eventId: expected, position: position,
            message:
                "position \(position) of the chain is event \(expected), but the trail has event \(found) there: event \(expected) was deleted or moved"
        )
    }

    private static func verify(
        since: Int64?, anchor: Head?, on connection: PostgresConnection, logger: Logger
    ) async throws -> Report {
        var report = Report()
        var seq: Int64 = 0
        var position: Int64 = 0
        var hash = [UInt8](repeating: 0, count: 32)
        var cursor = (txid: "0", id: Int64(0))
        if let since {
            let rows = try await connection.rows(
                """
                SELECT s.seq, p.first_position + cardinality(p.event_ids) - 1,
                       substring(p.hashes FROM octet_length(p.hashes) - 31), p.last_txid::text, p.last_id
                FROM audit_seals s LEFT JOIN audit_seals p ON p.seq = s.seq - 1
                WHERE \(since) = ANY (s.event_ids)
                """,
                logger: logger)
            guard let row = rows.first else {
                throw WiredeskError(.notFound, "event \(since) is not in any seal (not yet sealed, or no such event)")
            }
            let (found, lastPosition, lastHash, txid, id) = try row.decode(
                (Int64, Int64?, Data?, String?, Int64?).self)
            seq = found - 1
            if let lastPosition, let lastHash, let txid, let id {
                (position, hash, cursor) = (lastPosition, Array(lastHash), (txid, id))
            }
        }
        func checkAnchor(at position: Int64, _ hash: [UInt8], event: Int64) throws {
            guard let anchor, anchor.position == position else { return }
            guard anchor.hash == hash else {
                throw Broken(
                    eventId: event, position: position,
                    message:
                        "the trail up to the anchor was rewritten: position \(position) (event \(event)) hashes to \(Head.hex(hash)), the anchor says \(Head.hex(anchor.hash))"
                )
            }
            report.anchorMatched = true
        }
        while true {
            let seals = try await connection.rows(
                """
                SELECT seq, first_position, event_ids, hashes, last_txid::text, last_id FROM audit_seals
                WHERE seq > \(seq) ORDER BY seq LIMIT 16
                """,
                logger: logger)
            if seals.isEmpty { break }
            for row in seals {
                let (number, first, ids, storedData, lastTxid, lastID) = try row.decode(
                    (Int64, Int64, [Int64], Data, String, Int64).self)
                let stored = Array(storedData)
                guard number == seq + 1, first == position + 1 else {
                    throw Broken(
                        eventId: ids.first, position: position + 1,
                        message:
                            "seal \(seq + 1) is missing: the chain jumps from position \(position) to seal \(number) at \(first)")
                }
                var index = 0
                var misplaced: (found: Int64, at: Int64, expected: Int64?)?
                // The seal's range. With two row comparisons PostgreSQL positions the index scan at
                // the start of the first transaction and reads every event of it: a bulk load in one
                // transaction made each seal cost the whole load. One bound in the index, a limit,
                // and the other bound outside it keep a seal's cost to its own events.
                let events = try await connection.stream(
                    """
                    SELECT \(unescaped: eventColumns) FROM (
                        SELECT * FROM audit_events
                        WHERE (txid, id) > (\(cursor.txid)::text::xid8, \(cursor.id)) AND txid <= \(lastTxid)::text::xid8
                        ORDER BY txid, id LIMIT \(ids.count + 1)
                    ) AS audit_events
                    WHERE (audit_events.txid, audit_events.id) <= (\(lastTxid)::text::xid8, \(lastID))
                    ORDER BY audit_events.txid, audit_events.id
                    """,
                    logger: logger)
                for try await eventRow in events {
                    let event = try CanonicalEvent(eventRow)
                    let at = position + 1
                    guard index < ids.count, event.id == ids[index] else {
                        misplaced = (event.id, at, index < ids.count ? ids[index] : nil)
                        break
                    }
                    hash = event.chained(after: hash)
                    guard hash[...] == stored[(index * 32)..<(index * 32 + 32)] else {
                        throw Broken(
                            eventId: event.id, position: at,
                            message: "event \(event.id) (position \(at)) does not match the chain: it was changed after it was sealed")
                    }
                    try checkAnchor(at: at, hash, event: event.id)
                    position = at
                    index += 1
                    report.verified += 1
                }
                if let (found, at, expected) = misplaced {
                    throw try await Self.misplaced(
                        found, at: at, expected: expected, laterInSeal: ids[index...].contains(found), on: connection,
                        logger: logger)
                }
                guard index == ids.count else {
                    throw Broken(
                        eventId: ids[index], position: position + 1,
                        message: "event \(ids[index]) (position \(position + 1)) is missing from the trail: it was deleted")
                }
                seq = number
                cursor = (lastTxid, lastID)
                report.seals += 1
            }
        }
        if position > 0 { report.head = Head(position: position, hash: hash) }
        if let anchor, report.anchorMatched != true {
            throw Broken(
                eventId: nil, position: anchor.position,
                message:
                    "the chain ends at position \(position), before the anchor's \(anchor.position): events sealed before the anchor were removed"
            )
        }
        let pending = try await connection.rows(
            "SELECT count(*), min(at) FROM audit_events WHERE (txid, id) > (\(cursor.txid)::text::xid8, \(cursor.id))",
            logger: logger)
        if let (count, oldest) = try pending.first?.decode((Int64, Date?).self) {
            report.unsealed = count
            report.oldestUnsealed = oldest
        }
        return report
    }

    // MARK: The canonical encoding

    /// Every column of `audit_events`, as text exactly as stored (the time in microseconds). The
    /// text columns are renamed: `ORDER BY txid` would otherwise sort by an output column `txid`,
    /// as text, where 999 comes after 1000.
    static let eventColumns = """
        id, (extract(epoch FROM at) * 1000000)::bigint::text AS at_us, txid::text AS txid_text, actor, actor_role, \
        source, request_id, story_id::text AS story_text, action, from_state, to_state, version::text AS version_text, \
        diff::text AS diff_text, reason, subject, bulk_id::text AS bulk_text
        """

    /// An event as the chain hashes it: each field in column order, absent (0) or present (1, its
    /// length as 4 bytes big-endian, its UTF-8), so that no two events encode alike. The bulk id
    /// (migration 0017) is a sixteenth field only when the event has one: events from before it
    /// keep the encoding they were sealed with, and the count of fields still tells the two apart.
    struct CanonicalEvent {
        var id: Int64
        var txid: String
        var bytes: [UInt8]

        init(_ row: PostgresRow) throws {
            let (id, at, txid, actor, role, source, requestID, story, action, from, to, version, diff, reason, subject, bulk) =
                try row.decode(
                    (
                        Int64, String, String, String, String, String, String?, String?, String, String?, String?,
                        String?, String?, String?, String?, String?
                    ).self)
            self.id = id
            self.txid = txid
            var bytes: [UInt8] = []
            bytes.reserveCapacity(256 + (diff?.utf8.count ?? 0))
            var fields = [
                String(id), at, txid, actor, role, source, requestID, story, action, from, to, version, diff, reason, subject,
            ]
            if let bulk { fields.append(bulk) }
            for field in fields {
                guard let field else {
                    bytes.append(0)
                    continue
                }
                let count = UInt32(field.utf8.count)
                bytes += [1, UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
                bytes += field.utf8
            }
            self.bytes = bytes
        }

        func chained(after previous: [UInt8]) -> [UInt8] {
            var hasher = SHA256()
            hasher.update(data: previous)
            hasher.update(data: bytes)
            return Array(hasher.finalize())
        }
    }
}
