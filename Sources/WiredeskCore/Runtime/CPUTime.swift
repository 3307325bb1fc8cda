#if canImport(Glibc)
    import Glibc
#endif

/// CPU time the calling thread has used, in nanoseconds: what a piece of work cost, whatever else
/// the machine was doing meanwhile.
public func threadCPUNanoseconds() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
}
