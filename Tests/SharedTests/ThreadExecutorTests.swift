import Foundation
import Testing
@testable import Shared

/// Two actors sharing one `ThreadExecutor`, as a Replier partition's Redis and HTTP clients do.
private actor Recorder {
    let executor: ThreadExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    private(set) var calls = 0

    init(executor: ThreadExecutor) { self.executor = executor }

    /// The OS's name of the thread this call ran on (what `top -H` shows).
    func threadName() -> String {
        ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .newlines)
    }

    /// The thread this call ran on.
    func call() -> UInt {
        calls += 1
        return currentThread()
    }
}

private func currentThread() -> UInt { UInt(pthread_self()) }

@Suite("ThreadExecutor")
struct ThreadExecutorTests {
    @Test("a loop that prefers the thread, and the actors on it, all run on that one thread, in order")
    func sharedThread() async {
        let thread = ThreadExecutor(name: "test-shared")
        defer { thread.stop() }
        let redis = Recorder(executor: thread)
        let http = Recorder(executor: thread)
        let seen: [UInt] = await withTaskExecutorPreference(thread) {
            var seen: [UInt] = []
            for _ in 0..<50 {
                seen.append(currentThread())
                seen.append(await redis.call())
                seen.append(await http.call())
                await Task.yield()
                seen.append(currentThread())
            }
            return seen
        }
        #expect(Set(seen).count == 1)
        #expect(await redis.calls == 50)
        #expect(await http.calls == 50)
        // Outside the preference the task runs elsewhere, and the actors still on their thread.
        let outside = currentThread()
        #expect(outside != seen[0])
        #expect(await redis.call() == seen[0])
    }

    @Test("the thread carries its name, cut to Linux's 15 bytes")
    func named() async {
        let thread = ThreadExecutor(name: "replier-ratelimit-p7")
        defer { thread.stop() }
        #expect(await Recorder(executor: thread).threadName() == "replier-ratelim")
    }

    @Test("actors with threads of their own run on different threads")
    func ownThreads() async {
        let first = ThreadExecutor(name: "test-a")
        let second = ThreadExecutor(name: "test-b")
        defer { first.stop(); second.stop() }
        let a = await Recorder(executor: first).call()
        let b = await Recorder(executor: second).call()
        #expect(a != b)
    }
}
