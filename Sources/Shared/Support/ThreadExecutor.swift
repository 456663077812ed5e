import Foundation

/// A serial executor that runs every job on one dedicated OS thread.
///
/// hiredis and libcurl calls block. Run on Swift's cooperative pool (two threads on a
/// two-core machine) they would stall unrelated tasks, so every actor that owns such a
/// handle uses one of these as its executor instead.
///
/// It is also a task executor: a sequential loop that talks to several such actors (a Replier
/// partition: its stream, the rate limiter, Discord) can put them all on one thread and run
/// itself there (`withTaskExecutorPreference`), so each call is a function call on that thread
/// instead of a wake-up of another thread and back. Only actors whose calls never wait on each
/// other may share one: a blocking read holds the thread for all of them.
public final class ThreadExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false

    public init(name: String) {
        // The thread keeps its executor alive until `stop()` lets it finish.
        let thread = Thread {
            // Named from inside, so the OS thread carries it too, for `top -H` and profilers
            // (Linux keeps 15 bytes of it).
            Thread.current.name = String(decoding: name.utf8.prefix(15), as: UTF8.self)
            self.runLoop()
        }
        thread.name = name
        thread.start()
    }

    /// Ends the thread once the queued jobs have run; the owner calls this from its deinit (or,
    /// for a thread shared by several actors, once none of them is used any more).
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

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
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
            // One thread: a job of an actor on this executor and a task that prefers it never
            // run at once, so each runs isolated to it (Swift's way for an executor that is both).
            job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
        }
    }
}
