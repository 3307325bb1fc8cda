import Foundation
import NIOCore
import PostgresNIO

/// Audit events as the API's JSON (AuditEvent in openapi.yaml), written straight from the bytes of
/// their rows (`AuditLog.columns`) into one buffer, comma-separated: absent fields left out, the
/// time in UTC with milliseconds rounded as `JSONCoding.formatDate` rounds them, the diff as
/// PostgreSQL writes it.
///
/// Pages of events go out over HTTP as they are read. Decoding a page into values and encoding it
/// again cost several times the query, and having PostgreSQL join the JSON as text tripled the
/// query's own time (scripts/bench); copying the bytes costs neither.
final class EventJSON {
    struct UnexpectedColumn: Error, CustomStringConvertible {
        var column: String
        var description: String { "audit event column \(column) is not of the type the API's JSON is written from" }
    }

    private(set) var buffer = ByteBuffer()

    init(capacity: Int = 32 << 10) {
        buffer.reserveCapacity(capacity)
    }

    /// Appends the event in `row`, whose columns are `AuditLog.columns` in that order and then
    /// any others, and returns where the buffer ends after it.
    func append(_ row: PostgresRow) throws -> Int {
        // Written in a local buffer: each write to the stored one is an access the runtime checks.
        var buffer = ByteBuffer()
        swap(&buffer, &self.buffer)
        defer { swap(&buffer, &self.buffer) }
        if buffer.writerIndex > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
        var cells = row.makeIterator()
        guard let id = cells.next(), let at = cells.next(), let actor = cells.next(), let role = cells.next(),
            let source = cells.next(), let requestID = cells.next(), let storyID = cells.next(),
            let action = cells.next(), let from = cells.next(), let to = cells.next(), let version = cells.next(),
            let diff = cells.next(), let reason = cells.next(), let subject = cells.next(), let bulkID = cells.next()
        else { throw UnexpectedColumn(column: "count") }

        buffer.writeStaticString(#"{"id":"#)
        try Self.integer(id, into: &buffer)
        buffer.writeStaticString(#","at":""#)
        try Self.timestamp(at, into: &buffer)
        buffer.writeInteger(UInt8(ascii: "\""))
        try Self.string(actor, #","actor":""#, into: &buffer)
        try Self.string(role, #","actorRole":""#, into: &buffer)
        try Self.string(source, #","source":""#, into: &buffer)
        try Self.string(action, #","action":""#, into: &buffer)
        try Self.string(requestID, #","requestId":""#, into: &buffer)
        if storyID.bytes != nil {
            buffer.writeStaticString(#","storyId":""#)
            try Self.uuid(storyID, into: &buffer)
            buffer.writeInteger(UInt8(ascii: "\""))
        }
        try Self.string(from, #","fromState":""#, into: &buffer)
        try Self.string(to, #","toState":""#, into: &buffer)
        if version.bytes != nil {
            buffer.writeStaticString(#","version":"#)
            try Self.integer(version, into: &buffer)
        }
        if var bytes = diff.bytes {
            // jsonb as text: JSON PostgreSQL wrote itself.
            guard diff.dataType == .text else { throw UnexpectedColumn(column: diff.columnName) }
            buffer.writeStaticString(#","diff":"#)
            buffer.writeBuffer(&bytes)
        }
        try Self.string(reason, #","reason":""#, into: &buffer)
        try Self.string(subject, #","subject":""#, into: &buffer)
        if bulkID.bytes != nil {
            buffer.writeStaticString(#","bulkId":""#)
            try Self.uuid(bulkID, into: &buffer)
            buffer.writeInteger(UInt8(ascii: "\""))
        }
        buffer.writeInteger(UInt8(ascii: "}"))
        return buffer.writerIndex
    }

    /// `prefix`, the text escaped as JSON requires, and the closing quote; nothing for NULL.
    private static func string(_ cell: PostgresCell, _ prefix: StaticString, into buffer: inout ByteBuffer) throws {
        guard let bytes = cell.bytes else { return }
        guard cell.dataType == .text || cell.dataType == .varchar else { throw UnexpectedColumn(column: cell.columnName) }
        buffer.writeStaticString(prefix)
        bytes.withUnsafeReadableBytes { text in
            var start = 0
            for index in 0..<text.count {
                let byte = text[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: text[start..<index]))
                start = index + 1
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString(#"\""#)
                case UInt8(ascii: "\\"): buffer.writeStaticString(#"\\"#)
                case 0x0A: buffer.writeStaticString(#"\n"#)
                case 0x0D: buffer.writeStaticString(#"\r"#)
                case 0x09: buffer.writeStaticString(#"\t"#)
                default:
                    buffer.writeStaticString(#"\u00"#)
                    buffer.writeInteger(hexDigit(byte >> 4))
                    buffer.writeInteger(hexDigit(byte & 0x0F))
                }
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: text[start...]))  // UTF-8 as stored
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    private static func integer(_ cell: PostgresCell, into buffer: inout ByteBuffer) throws {
        buffer.writeString(String(try cell.decode(Int64.self)))
    }

    private static func uuid(_ cell: PostgresCell, into buffer: inout ByteBuffer) throws {
        guard cell.dataType == .uuid, cell.format == .binary, let bytes = cell.bytes, bytes.readableBytes == 16 else {
            throw UnexpectedColumn(column: cell.columnName)
        }
        bytes.withUnsafeReadableBytes { raw in
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 36) { out in
                var at = 0
                for (index, byte) in raw.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        out[at] = UInt8(ascii: "-")
                        at += 1
                    }
                    out[at] = hexDigit(byte >> 4)
                    out[at + 1] = hexDigit(byte & 0x0F)
                    at += 2
                }
                return at
            }
        }
    }

    private static func timestamp(_ cell: PostgresCell, into buffer: inout ByteBuffer) throws {
        guard cell.dataType == .timestamptz, cell.format == .binary, let bytes = cell.bytes, bytes.readableBytes == 8,
            let micros = bytes.getInteger(at: bytes.readerIndex, as: Int64.self),
            Self.writeUTC(microsSince2000: micros, into: &buffer)
        else { throw UnexpectedColumn(column: cell.columnName) }
    }

    /// The instant as RFC 3339 in UTC with milliseconds; nil outside the years 0001 to 9999 (and
    /// for PostgreSQL's infinities), which no event the database timed can have.
    static func utc(microsSince2000 micros: Int64) -> String? {
        var buffer = ByteBuffer()
        return writeUTC(microsSince2000: micros, into: &buffer) ? String(buffer: buffer) : nil
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` from PostgreSQL's microseconds since 2000-01-01 UTC, rounded to
    /// the nearest millisecond (half up), in the proleptic Gregorian calendar as PostgreSQL and
    /// RFC 3339 count days. False, writing nothing, outside the years 0001 to 9999.
    private static func writeUTC(microsSince2000 micros: Int64, into buffer: inout ByteBuffer) -> Bool {
        let (rounded, overflow) = micros.addingReportingOverflow(500)
        guard !overflow else { return false }
        let millis = floorDivide(rounded, 1000)
        let days = floorDivide(millis, 86_400_000)
        let ofDay = millis - days * 86_400_000
        // Howard Hinnant's civil_from_days, counted from 0000-03-01; 2000-01-01 is day 730,425.
        let z = days + 730_425
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        guard (1...9999).contains(year) else { return false }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 24) { out in
            var at = 0
            func digits(_ value: Int64, _ count: Int) {
                var value = value
                for place in stride(from: at + count - 1, through: at, by: -1) {
                    out[place] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                at += count
            }
            func mark(_ character: Unicode.Scalar) {
                out[at] = UInt8(ascii: character)
                at += 1
            }
            digits(year, 4)
            mark("-")
            digits(month, 2)
            mark("-")
            digits(day, 2)
            mark("T")
            digits(ofDay / 3_600_000, 2)
            mark(":")
            digits(ofDay / 60_000 % 60, 2)
            mark(":")
            digits(ofDay / 1000 % 60, 2)
            mark(".")
            digits(ofDay % 1000, 3)
            mark("Z")
            return at
        }
        return true
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? quotient - 1 : quotient
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
    }
}
