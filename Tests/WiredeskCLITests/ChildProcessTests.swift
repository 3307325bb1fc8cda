import Foundation
import Testing
import WiredeskTestSupport

/// The tests run many programs (the `wiredesk` binary, the ninjs validator) side by side with
/// servers and webhook workers in this process; waiting for a program must not hold up the rest.
@Suite struct ChildProcessTests {
    /// More programs at once than the process has task threads, each waiting for a file that
    /// another task makes. When a wait held a task thread, the file never came while they ran
    /// (the whole test process froze, webhook deliveries included) and each gave up.
    @Test func programsRunningDoNotHoldUpTheProcesssOtherTasks() async throws {
        let flag = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: flag) }
        // Gives up after about 30 s.
        let waitForFlag = #"i=0; while [ ! -e "$0" ]; do i=$((i+1)); [ $i -gt 600 ] && exit 1; sleep 0.05; done"#
        let programs = ProcessInfo.processInfo.activeProcessorCount + 1
        let statuses = try await withThrowingTaskGroup(of: Int32?.self) { group in
            for _ in 0..<programs {
                group.addTask {
                    try await ChildProcess.run(URL(fileURLWithPath: "/bin/sh"), ["-c", waitForFlag, flag.path]).status
                }
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(200))
                FileManager.default.createFile(atPath: flag.path, contents: nil)
                return nil
            }
            return try await group.reduce(into: [Int32]()) { all, status in if let status { all.append(status) } }
        }
        #expect(statuses == [Int32](repeating: 0, count: programs))
    }
}
