import Foundation
import TestSupport

/// Raw Redis speed on this machine in this run: `redis-benchmark` XADD to one stream, with one
/// client waiting on each reply (as each of the connector's connections does), with 50, and with
/// 50 pipelining 16 commands each (what Redis itself can take here). With `floor`: the least a
/// gateway reader can do per message (`IngestFloor`), measured by the bench.
struct Baseline {
    var singleClient: Double = .nan
    var fiftyClients: Double = .nan
    var pipelined: Double = .nan
    /// `IngestFloor`: messages/s and its CPU ms per 1,000 messages.
    var floorRate: Double = .nan
    var floorCPU: Double = .nan

    static func measure(requests: Int) async throws -> Baseline {
        let directory = try makeScratchDirectory("bench-baseline")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let redis = try await RedisServer(directory: directory)
        var baseline = Baseline()
        do {
            baseline.singleClient = try await run(port: redis.port, clients: 1, requests: requests)
            baseline.fiftyClients = try await run(port: redis.port, clients: 50, requests: requests * 2)
            baseline.pipelined = try await run(port: redis.port, clients: 50, requests: requests * 10, pipeline: 16)
        } catch {
            await redis.stop()
            throw error
        }
        await redis.stop()
        return baseline
    }

    private static func run(port: Int, clients: Int, requests: Int, pipeline: Int = 1) async throws -> Double {
        let result = try await runToCompletion(
            "/usr/bin/redis-benchmark",
            arguments: ["-h", "127.0.0.1", "-p", String(port), "-n", String(requests), "-c", String(clients), "-P", String(pipeline), "-q", "XADD", "bench:raw", "*", "field", "value"],
            environment: ["PATH": "/usr/bin:/bin"],
            timeout: .seconds(120)
        )
        // "XADD bench:raw * field value: 17421.33 requests per second, p50=0.047 msec"
        guard let match = result.output.firstMatch(of: #/([0-9.]+) requests per second/#), let rate = Double(match.output.1) else {
            throw TestSupportError("cannot read redis-benchmark's output: \(result.output)")
        }
        return rate
    }
}

/// The machine, for the report.
enum MachineInfo {
    static func describe() -> String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let memory = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("MemTotal") }?
            .split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) }.map { String(format: "%.0f GiB", $0 / 1_048_576) } ?? "?"
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores (\(cpu)), \(memory) RAM, \(ProcessInfo.processInfo.operatingSystemVersionString)"
    }
}

struct BenchSizes {
    var baselineRequests: Int
    var latencySamples: Int
    var inboundMessages: Int
    var replies: Int
    var limitedReplies: Int
    var fileReplies: Int
    var progressRequests: Int
    var memoryRoundTrips: Int
    /// Throughput phases are run this many times; the table shows the median.
    var repeats: Int

    init(quick: Bool) {
        baselineRequests = quick ? 20_000 : 100_000
        latencySamples = quick ? 100 : 500
        inboundMessages = quick ? 2_000 : 10_000
        replies = quick ? 2_000 : 10_000
        limitedReplies = quick ? 500 : 1_500
        fileReplies = quick ? 50 : 200
        progressRequests = quick ? 50 : 200
        memoryRoundTrips = quick ? 500 : 2_000
        repeats = quick ? 1 : 3
    }
}
