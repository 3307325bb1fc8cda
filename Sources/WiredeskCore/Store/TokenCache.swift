import Foundation
import Synchronization

/// Tokens this server verified in the last half second, so that a client sending request after
/// request does not wait for a token query (a round trip as long as a page query) on each one.
///
/// An entry is trusted for `lifetime` from before the query that verified it, and never past the
/// token's expiry: a token revoked, or a user disabled or given another role, anywhere — by the
/// CLI, another server, or SQL — is acted on by every server within that time, with nothing to
/// listen to and so nothing that can fail open.
public final class TokenCache: Sendable {
    struct Entry {
        var name: String
        var role: Role
        var until: ContinuousClock.Instant
    }

    /// The longest a server acts on a user's standing as it was read.
    public static let lifetime: Duration = .milliseconds(500)
    /// Only tokens that verified are kept, so this bounds it by the tokens in use within a
    /// lifetime; past it, expired entries go, and if that is not enough, all of them.
    static let maximumEntries = 10_000

    let lifetime: Duration
    private let entries = Mutex<[Data: Entry]>([:])

    public init(lifetime: Duration = TokenCache.lifetime) {
        self.lifetime = lifetime
    }

    /// The holder of the token with this SHA-256, if it was verified recently enough.
    func principal(hash: Data, source: ChangeSource, at now: ContinuousClock.Instant = .now) -> Principal? {
        entries.withLock { entries in
            guard let entry = entries[hash], now < entry.until else { return nil }
            return Principal(name: entry.name, role: entry.role, source: source)
        }
    }

    /// Keeps what a query that started at `checked` found: the token's holder, and how many
    /// seconds the token had left by the database's clock (nil: no expiry).
    func keep(
        hash: Data, name: String, role: Role, secondsLeft: Double?, checked: ContinuousClock.Instant,
        now: ContinuousClock.Instant = .now
    ) {
        var until = checked + lifetime
        // +infinity (a superuser's 'infinity') leaves the lifetime as the bound.
        if let secondsLeft, secondsLeft < lifetime / .seconds(1) {
            until = checked + .milliseconds(Int64(max(0, secondsLeft) * 1000))
        }
        guard now < until else { return }
        entries.withLock { entries in
            if entries.count >= Self.maximumEntries {
                entries = entries.filter { now < $0.value.until }
                if entries.count >= Self.maximumEntries { entries.removeAll() }
            }
            entries[hash] = Entry(name: name, role: role, until: until)
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
