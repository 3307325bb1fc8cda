import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// CPU-heavy work — parsing agency copy, diffing, rendering exports — runs on these threads, never
/// on the event loops that serve sockets: a slow parse must not hold up another client's request.
/// In the server the threads run at a lower priority than the event loops (`yieldToEventLoops`),
/// so that when both want the CPU, answering wins.
public enum Offload {
    private static let nice = Atomic<Int32>(0)

    /// From now on the workers run at nice 10: the server calls this once, at start. (A command
    /// line tool or a test process has no event loops to yield to.)
    public static func yieldToEventLoops() {
        nice.store(10, ordering: .relaxed)
    }

    /// Agency copy arrives in bulk and may be hostile: it has threads of its own, so that a feed
    /// in full flow never holds up an editor's write.
    public enum Lane: Sendable {
        case general, ingest
        /// bcrypt, a quarter of a second a hash by design: one thread of its own, so that sign-ins
        /// (or a flood of guesses) never hold up a write waiting on `general` inside its transaction,
        /// and take at most one core.
        case passwords
    }

    private static let general = start()
    private static let ingest = start()
    private static let passwords = start(threads: 1)

    private static func start(threads: Int = max(2, System.coreCount)) -> NIOThreadPool {
        let pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        return pool
    }

    /// Runs `work` on a worker thread and returns its result.
    public static func run<T: Sendable>(
        _ lane: Lane = .general, _ work: @escaping @Sendable () throws -> T
    ) async throws -> T {
        let pool =
            switch lane {
            case .general: general
            case .ingest: ingest
            case .passwords: passwords
            }
        return try await pool.runIfActive {
            lowerPriority()
            return try work()
        }
    }

    /// For this thread only (on Linux the nice value is a thread's, and 0 names the calling
    /// thread): at nice 10 the event loops, at 0, get about nine tenths of a contended core.
    private static func lowerPriority() {
        let value = nice.load(ordering: .relaxed)
        // Once per thread: a system call for every job was a cost of its own.
        guard value != 0, applied.currentValue?.value != value else { return }
        #if os(Linux)
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, value)
        #endif
        applied.currentValue = Applied(value: value)
    }

    /// The nice value this thread runs at.
    private static let applied = ThreadSpecificVariable<Applied>()

    private final class Applied: Sendable {
        let value: Int32
        init(value: Int32) { self.value = value }
    }
}
