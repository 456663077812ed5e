import Foundation
import Shared

/// Where the built executables are: `CONNECTOR_BIN_DIR`, else next to the running test binary.
public enum BuildProducts {
    public static var directory: String {
        if let configured = ProcessInfo.processInfo.environment["CONNECTOR_BIN_DIR"] { return configured }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: executable)
        // .build/debug/<package>PackageTests.xctest is a file on Linux; the products sit beside it.
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("Ingest").path) { return url.path }
        }
        return ".build/debug"
    }

    public static func path(_ product: String) -> String { directory + "/" + product }
}

/// A free TCP port on 127.0.0.1, found by binding port 0.
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSupportError("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw TestSupportError("bind() failed") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A scratch directory for one test's logs and data, removed by `remove()`.
public func makeScratchDirectory(_ label: String) throws -> String {
    let path = NSTemporaryDirectory() + "connector-\(label)-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
public func eventually<T>(timeout: Duration = .seconds(10), _ condition: () async throws -> T?) async rethrows -> T? {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try await condition() { return value }
        if ContinuousClock.now >= deadline { return nil }
        try? await Task.sleep(for: .milliseconds(50))
    }
}
