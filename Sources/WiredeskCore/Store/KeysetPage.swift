import PostgresNIO

/// A page cut from rows fetched newest first as `limit + 1`: it ends at `limit` items, or before
/// their sizes pass `maximumBytes` (the first item goes in however large, so a page is never
/// empty while rows remain), and gives the position of its last item when anything was left.
enum KeysetPage {
    static func cut<Item, Position>(
        _ rows: [PostgresRow], limit: Int, maximumBytes: Int,
        _ read: (PostgresRow) throws -> (item: Item, bytes: Int, position: Position)
    ) rethrows -> (items: [Item], next: Position?) {
        var items: [Item] = []
        var bytes = 0
        var last: Position?
        for row in rows {
            let (item, size, position) = try read(row)
            if items.count == limit || (!items.isEmpty && bytes + size > maximumBytes) {
                return (items, last)
            }
            items.append(item)
            bytes += size
            last = position
        }
        return (items, nil)
    }
}
