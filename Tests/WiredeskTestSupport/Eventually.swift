/// What a change has not reached in time: thrown by `eventually`, recorded by the test.
public struct NotInTime: Error, CustomStringConvertible {
    public var description: String
}

/// Asks `done` until it says yes, for a change made `since` (by default, before the call) that
/// must hold within `bound`. Each answer counts from when it was asked for: a busy test process
/// only asks later, which must not make a prompt change look late.
public func eventually(
    within bound: Duration = .seconds(1), since started: ContinuousClock.Instant = .now,
    _ what: @autoclosure () -> String, _ done: () async throws -> Bool
) async throws {
    while true {
        let asked = ContinuousClock.now
        if try await done() { return }
        guard asked - started < bound else { throw NotInTime(description: "\(what()) did not hold within \(bound)") }
        try await Task.sleep(for: .milliseconds(10))
    }
}
