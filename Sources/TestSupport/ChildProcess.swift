import Foundation

/// A child process started with `posix_spawn`, with a clean signal mask (a child started from
/// async code can otherwise inherit blocked signals and ignore SIGTERM) and its output in a file.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let name: String
    public let logPath: String
    private var exitStatus: Int32?
    private let lock = NSLock()

    /// - Parameters:
    ///   - environment: the complete environment of the child.
    ///   - stdoutPath: where standard output goes; standard error goes to `logPath`.
    public init(name: String, executable: String, arguments: [String] = [], environment: [String: String], workingDirectory: String? = nil, logPath: String, stdoutPath: String? = nil) throws {
        self.name = name
        self.logPath = logPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath ?? logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        // glibc's posix_spawn_file_actions_addchdir_np is not visible from Swift: let a shell
        // change directory, then exec the program in its place (same pid).
        var program = executable
        var argumentList = [executable] + arguments
        if let workingDirectory {
            program = "/bin/sh"
            argumentList = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", workingDirectory] + argumentList
        }
        let argv = argumentList.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, program, &actions, &attributes, argv, envp)
        guard status == 0 else {
            throw TestSupportError("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        self.pid = pid
    }

    /// Whether the process has exited (reaped with `waitpid`, which `kill -0` cannot tell).
    public var hasExited: Bool {
        lock.lock()
        defer { lock.unlock() }
        if exitStatus != nil { return true }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exitStatus = status }
        return exitStatus != nil
    }

    /// The exit code, once exited normally.
    public var exitCode: Int32? {
        guard hasExited, let status = exitStatus else { return nil }
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : nil
    }

    public func signal(_ signal: Int32) {
        if !hasExited { kill(pid, signal) }
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    public func stop(grace: Duration = .seconds(5)) async {
        signal(SIGTERM)
        if await waitForExit(timeout: grace) { return }
        signal(SIGKILL)
        _ = await waitForExit(timeout: .seconds(5))
    }

    @discardableResult
    public func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if hasExited { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return hasExited
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
