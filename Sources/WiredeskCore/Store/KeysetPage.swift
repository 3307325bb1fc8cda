import PostgresNIO

/// A page cut from rows fetched newest first as `limit + 1`: it ends at `limit` items, or before
/// their sizes pass `maximumBytes` (the first item goes in however large, so a page is never
/// empty while rows remain), and gives the position of its last item when anything was left.
enum KeysetPage {
    static func cut<Item, Position>(
        _ rows: [PostgresRow], limit: Int, maximumBytes: Int,
        _ read: (PostgresRow) throws -> (item: Item, bytes: Int, position: Position)
    ) rethrows -> (items: [Item], next: Position?) {
        try cut(rows, limit: limit, maximumBytes: maximumBytes) {
            let (item, bytes, position) = try read($0)
            return (item, bytes, position, false)
        }
    }

    /// The same, for rows the query itself may have stopped short of the end: `more` is true on
    /// the row after which it left rows out, and a page that ends there has a next one.
    static func cut<Item, Position>(
        _ rows: [PostgresRow], limit: Int, maximumBytes: Int,
        _ read: (PostgresRow) throws -> (item: Item, bytes: Int, position: Position, more: Bool)
    ) rethrows -> (items: [Item], next: Position?) {
        var items: [Item] = []
        var bytes = 0
        var last: Position?
        var more = false
        for row in rows {
            let (item, size, position, moreAfter) = try read(row)
            if items.count == limit || (!items.isEmpty && bytes + size > maximumBytes) {
                return (items, last)
            }
            items.append(item)
            bytes += size
            last = position
            more = moreAfter
        }
        return (items, more ? last : nil)
    }
}
