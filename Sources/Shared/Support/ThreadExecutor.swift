import Foundation

/// A serial executor that runs every job on one dedicated OS thread.
///
/// hiredis and libcurl calls block. Run on Swift's cooperative pool (two threads on a
/// two-core machine) they would stall unrelated tasks, so every actor that owns such a
/// handle uses one of these as its executor instead.
public final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false

    public init(name: String) {
        // The thread keeps its executor alive until `stop()` lets it finish.
        let thread = Thread { self.runLoop() }
        thread.name = name
        thread.start()
    }

    /// Ends the thread once the queued jobs have run; the owner calls this from its deinit.
    public func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    private func runLoop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedSerialExecutor())
        }
    }
}
