import Synchronization

/// A counting semaphore for tasks: a waiter is suspended, not blocking a thread.
public final class Gate: Sendable {
    private struct State {
        var free: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state: Mutex<State>

    public init(width: Int) {
        state = Mutex(State(free: width))
    }

    public func enter() async {
        await withCheckedContinuation { continuation in
            let entered = state.withLock { state in
                guard state.free > 0 else {
                    state.waiting.append(continuation)
                    return false
                }
                state.free -= 1
                return true
            }
            if entered { continuation.resume() }
        }
    }

    /// Lets the longest waiter in, or frees a place.
    public func leave() {
        let next = state.withLock { state in
            if state.waiting.isEmpty {
                state.free += 1
                return nil as CheckedContinuation<Void, Never>?
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
