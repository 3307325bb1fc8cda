import Foundation

extension FileHandle {
    /// Everything until end of file. Foundation's `readDataToEndOfFile` traps when a signal (another
    /// test's child process exiting) interrupts the read; this reads on.
    public func readAll() -> Data {
        var data = Data()
        while true {
            do {
                guard let chunk = try read(upToCount: 1 << 16), !chunk.isEmpty else { return data }
                data += chunk
            } catch let error as NSError where (error.userInfo[NSUnderlyingErrorKey] as? NSError)?.code == Int(EINTR) {
                continue
            } catch {
                return data
            }
        }
    }
}

/// Runs long CPU work, or a blocking wait (a child process, a socket), on a thread of its own: on
/// the test process's few task threads, or on the Offload pool the code under test shares, it
/// would hold up every other test.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.start()
    }
}
