import NIOCore
import PostgresNIO
import Synchronization

/// One operation's claim on a pooled connection, and the one answer its caller gets.
///
/// It closes two ways a caller could wait for ever. The pool may find no connection (PostgreSQL is
/// down): when the wait is over the caller is told `unavailable`, and a connection that comes later
/// is turned away. And PostgresNIO drops a query written to a connection whose socket has just
/// closed, so nothing ever answers it; when PostgreSQL restarts, the pool can hand out such a
/// connection before it hears of the close. So the claim is looked at every interval until the
/// caller has its answer, and a connection found closed under the work means `unavailable`.
final class Lease<T: Sendable>: Sendable {
    private enum Claim {
        case waiting
        case held(PostgresConnection)
        case expired
    }

    private enum Reply {
        case pending
        case awaited(CheckedContinuation<T, any Error>)
        case ready(Result<T, any Error>)
        case sent
    }

    private struct State {
        var claim = Claim.waiting
        var reply = Reply.pending
        var timer: Scheduled<Void>?

        var answered: Bool {
            switch reply {
            case .pending, .awaited: false
            case .ready, .sent: true
            }
        }
    }

    private enum Verdict { case answered, keepWatching, giveUp }

    private let state = Mutex(State())

    private static var unavailable: WiredeskError { WiredeskError(.unavailable, "the database is unavailable") }

    /// Takes the connection the pool handed over; refused once the caller was told no.
    func acquire(_ connection: PostgresConnection) throws {
        try state.withLock { state in
            guard case .waiting = state.claim else { throw Self.unavailable }
            state.claim = .held(connection)
        }
    }

    /// The work's outcome, ignored if the caller was already answered.
    func answer(_ result: Result<T, any Error>) {
        let (waiter, timer) = state.withLock { state -> (CheckedContinuation<T, any Error>?, Scheduled<Void>?) in
            let timer = state.timer
            state.timer = nil
            switch state.reply {
            case .pending:
                state.reply = .ready(result)
                return (nil, timer)
            case .awaited(let continuation):
                state.reply = .sent
                return (continuation, timer)
            case .ready, .sent:
                return (nil, timer)
            }
        }
        timer?.cancel()
        waiter?.resume(with: result)
    }

    /// The answer, from whichever comes first: the work, or the watch giving up on it. Called once.
    func value() async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<T, any Error>? = state.withLock { state in
                switch state.reply {
                case .pending:
                    state.reply = .awaited(continuation)
                    return nil
                case .ready(let result):
                    state.reply = .sent
                    return result
                case .awaited, .sent:
                    preconditionFailure("a lease has one caller")
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    /// Looks at the claim every `interval` until the caller is answered. Gives up, calling
    /// `abandon` and answering `unavailable`, when no connection came in the interval or the
    /// connection held has closed. An event-loop timer: cheap enough for every query, which
    /// mostly ends before its first look.
    func watch(every interval: Duration, on loop: any EventLoop, abandon: @escaping @Sendable () -> Void) {
        let timer = loop.scheduleTask(in: .nanoseconds(interval.nanoseconds)) {
            switch self.verdict() {
            case .answered:
                return
            case .keepWatching:
                self.watch(every: interval, on: loop, abandon: abandon)
            case .giveUp:
                // Answered before the work is abandoned, which would answer with its own cancellation.
                self.answer(.failure(Self.unavailable))
                abandon()
            }
        }
        let late = state.withLock { state in
            if state.answered { return true }
            state.timer = timer
            return false
        }
        if late { timer.cancel() }
    }

    private func verdict() -> Verdict {
        state.withLock { state in
            if state.answered { return .answered }
            switch state.claim {
            case .waiting:
                state.claim = .expired
                return .giveUp
            case .held(let connection):
                return connection.isClosed ? .giveUp : .keepWatching
            case .expired:
                return .giveUp
            }
        }
    }
}
