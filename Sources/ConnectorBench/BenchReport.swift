import Foundation

/// The figures of one benchmark run, and their table.
struct BenchReport {
    var baseline = Baseline()
    var idleMemory: [String: (rss: Double, peak: Double)] = [:]
    var loadMemory: [String: (rss: Double, peak: Double)] = [:]
    var loadMemory3: [String: (rss: Double, peak: Double)] = [:]
    var inboundLatency: [Int] = []
    var replyLatency: [Int] = []
    var interactionAckLatency: [Int] = []
    var clickLatency: [Int] = []
    /// Each repetition's figure; the table shows the median.
    var inboundRates: [Double] = []
    var replyRates1: [Double] = []
    var inboundRate: Double { Statistics.median(inboundRates) }
    var replyRate1: Double { Statistics.median(replyRates1) }
    var replyRate3: Double = .nan
    var limited: BenchDriver.LimitedResult?
    var files: BenchDriver.FileResult?
    var progress: BenchDriver.ProgressResult?
    var memory: BenchDriver.MemoryResult?
    /// The same stages on a three-primary Redis Cluster.
    var clusterInboundRate: Double = .nan
    var clusterReplyRate: Double = .nan
    var idleMemorySplit: [String: (anon: Double, file: Double)] = [:]
    /// CPU milliseconds per 1,000 messages, per process, during the throughput phases.
    var inboundCPUs: [[String: Double]] = []
    var replyCPUs: [[String: Double]] = []
    var inboundCPU: [String: Double] { Statistics.median(inboundCPUs) }
    var replyCPU: [String: Double] { Statistics.median(replyCPUs) }

    static func cpuPerThousand(before: [String: Double], after: [String: Double], count: Int) -> [String: Double] {
        var result: [String: Double] = [:]
        for (name, end) in after { result[name] = (end - (before[name] ?? end)) * 1000 / Double(count) * 1000 }
        return result
    }

    func markdown(machine: String, quick: Bool) -> String {
        func f(_ value: Double, _ digits: Int = 1) -> String { Statistics.format(value, digits) }
        func pass(_ ok: Bool) -> String { ok ? "met" : "**missed**" }
        let inP50 = Statistics.percentile(inboundLatency, 50), inP99 = Statistics.percentile(inboundLatency, 99), inP999 = Statistics.percentile(inboundLatency, 99.9)
        let outP50 = Statistics.percentile(replyLatency, 50), outP99 = Statistics.percentile(replyLatency, 99), outP999 = Statistics.percentile(replyLatency, 99.9)
        func runs(_ values: [Double]) -> String { values.count > 1 ? " (median of \(values.count): " + values.map { f($0, 0) }.joined(separator: ", ") + ")" : "" }
        let ackP50 = Statistics.percentile(interactionAckLatency, 50), ackP99 = Statistics.percentile(interactionAckLatency, 99)
        let clickP50 = Statistics.percentile(clickLatency, 50), clickP99 = Statistics.percentile(clickLatency, 99)
        let ratio = inboundRate / baseline.singleClient
        var lines = [
            "| measure | result | baseline (same run) | target | |",
            "|---|---|---|---|---|",
            "| inbound added latency p50 / p99 / p99.9 (simulator dispatch -> agent inbox record) | \(f(inP50, 2)) / \(f(inP99, 2)) / \(f(inP999, 2)) ms | | p99 < 5 ms | \(pass(inP99 < 5)) |",
            "| reply added latency p50 / p99 / p99.9 (agent record -> simulator receives the POST) | \(f(outP50, 2)) / \(f(outP99, 2)) / \(f(outP999, 2)) ms | | p99 < 5 ms | \(pass(outP99 < 5)) |",
            "| interaction acknowledgement p50 / p99 (simulator dispatches INTERACTION_CREATE -> receives the deferral callback) | \(f(ackP50, 2)) / \(f(ackP99, 2)) ms | Discord's deadline: 3,000 ms | p99 < 50 ms | \(pass(ackP99 < 50)) |",
            "| click -> agent inbox p50 / p99 (simulator dispatches the click -> its record in the posting agent's inbox) | \(f(clickP50, 2)) / \(f(clickP99, 2)) ms | | p99 < 5 ms | \(pass(clickP99 < 5)) |",
            "| inbound sustained, messages/s | \(f(inboundRate, 0))\(runs(inboundRates)) | redis-benchmark XADD, 1 client: \(f(baseline.singleClient, 0))/s; 50 clients: \(f(baseline.fiftyClients, 0))/s; 50 clients, pipeline 16: \(f(baseline.pipelined, 0))/s. Floor (a gateway reader that only XADDs each payload): \(f(baseline.floorRate, 0))/s, \(f(baseline.floorCPU, 0)) CPU ms per 1,000 | >= 10,000/s and >= 1x 1-client XADD | \(f(ratio * 100, 0))% of 1-client XADD: \(pass(ratio >= 1 && inboundRate >= 10_000)) |",
            "| reply posts/s, limits lifted, 1 Replier | \(f(replyRate1, 0))\(runs(replyRates1)) | | >= 3,000/s | \(pass(replyRate1 >= 3_000)) |",
            "| reply posts/s, limits lifted, 3 Repliers | \(f(replyRate3, 0)) | | | |",
        ]
        if let limited {
            let fraction = limited.steadyPostsPerSecond / limited.allowedPerSecond
            lines.append("| limits on (5/5 s per channel, 50/s global), 3 Repliers, 100 channels: posts/s | \(f(limited.steadyPostsPerSecond, 1)) of \(f(limited.allowedPerSecond, 0)) allowed (\(f(fraction * 100, 1))%) in the first \(limited.steadySeconds) s, while the backlog lasts; \(f(limited.postsPerSecond, 1))/s over the whole run (its last seconds: the channels still holding posts, each at its own 5 per 5 s); \(limited.posted) posts, \(limited.rateLimited) 429s | | >= 97%, zero 429s | \(pass(fraction >= 0.97 && limited.rateLimited == 0)) |")
        }
        lines.append("| inbound sustained on a 3-primary Redis Cluster, messages/s | \(f(clusterInboundRate, 0)) | one redis-server, same stages: \(f(inboundRate, 0))/s | | |")
        lines.append("| reply posts/s on a 3-primary Redis Cluster, limits lifted, 1 Replier | \(f(clusterReplyRate, 0)) | one redis-server: \(f(replyRate1, 0))/s | | |")
        if let files {
            lines.append("| file replies, limits lifted, 1 Replier: one \(f(Double(files.fileBytes) / 1_048_576, 0)) MiB file each (multipart) | \(f(files.postsPerSecond, 1)) posts/s, \(f(files.megabytesPerSecond, 1)) MB/s (\(files.posted) uploads checked by size) | | | |")
        }
        if let progress {
            let clean = progress.statusMessages == progress.requests && progress.deleted == progress.requests
            lines.append("| progress=1, limits lifted: \(progress.requests) requests x \(progress.progressRecords / max(progress.requests, 1)) status records in bursts, then the answers | \(progress.edits) edits for \(progress.progressRecords) records (coalesced), \(f(progress.editsPerSecond, 1)) edits/s over \(f(progress.seconds, 1)) s; \(progress.statusMessages) status messages, \(progress.deleted) deleted by their answer | at most 1 edit/s per status message | one status message per request, each removed | \(pass(clean)) |")
        }
        if let memory {
            let streams = memory.perStream.map { "\($0.0) \(f($0.1, 0)) B" }.joined(separator: ", ")
            lines.append("| Redis memory per round trip (\(memory.roundTrips) round trips; `used_memory` growth) | \(f(memory.bytesKept, 0)) B kept before trimming (\(streams)); \(f(memory.bytesAfterTrim, 0)) B once the janitor trimmed, of which the streams \(f(memory.streamsAfterTrim, 0)) B (the rest stays until `PENDING_TTL`: pending context, markers) | before retention: about 2,500 B kept forever | bounded by the retention windows: the streams trimmed to under a tenth | \(pass(memory.streamsAfterTrim < memory.streamsBefore / 10)) |")
        }
        for service in ["Ingest", "Dispatcher", "Replier"] {
            let idle = idleMemory[service]?.rss ?? .nan
            let peak = max(loadMemory[service]?.peak ?? .nan, loadMemory3["\(service)-0"]?.peak ?? loadMemory3[service]?.peak ?? 0)
            let split = idleMemorySplit[service]
            lines.append("| \(service) RSS idle / peak under load | \(f(idle)) / \(f(peak)) MB (idle: \(f(split?.anon ?? .nan)) MB anonymous, \(f(split?.file ?? .nan)) MB file-backed) | | \(service == "Ingest" ? "<= 30" : "<= 20") MB idle | \(pass(idle <= (service == "Ingest" ? 30 : 20))) |")
        }
        func cpuLine(_ title: String, _ cpu: [String: Double], target: String, met: Bool) -> String {
            let order = ["Ingest", "Dispatcher", "Replier", "simulator", "redis-server"]
            return "| \(title) | " + order.map { "\($0) \(f(cpu[$0] ?? .nan, 0))" }.joined(separator: ", ") + " | | \(target) | \(pass(met)) |"
        }
        let inCPU = inboundCPU, outCPU = replyCPU
        lines.append(cpuLine("CPU ms per 1,000 messages, inbound burst (median)", inCPU, target: "Ingest <= 80, Dispatcher <= 50, redis-server <= 80",
                             met: (inCPU["Ingest"] ?? .infinity) <= 80 && (inCPU["Dispatcher"] ?? .infinity) <= 50 && (inCPU["redis-server"] ?? .infinity) <= 80))
        lines.append(cpuLine("CPU ms per 1,000 replies, 1 Replier (median)", outCPU, target: "Replier <= 250, Ingest <= 50",
                             met: (outCPU["Replier"] ?? .infinity) <= 250 && (outCPU["Ingest"] ?? .infinity) <= 50))
        return """
        # Benchmarks

        Command: `make bench` (release build, the services linked with `--static-swift-stdlib` as the Dockerfile links them; runs `.build/release/ConnectorBench --output BENCHMARKS.md`)\(quick ? " with --quick" : "").
        Machine: \(machine).
        Run: \(ISO8601DateFormatter().string(from: Date())). Everything (redis-server, the simulator, the
        services and the load driver) shares this machine, so the figures include their contention.

        \(lines.joined(separator: "\n"))

        Latencies are wall-clock differences between timestamps taken by the simulator (dispatch,
        receipt of the POST) and by the driver (its XREAD returning the inbox record, its XADD of the
        reply); the driver's own XREAD wake-up is included in the inbound figure. Inbound throughput
        is measured from the first dispatch of a 10,000-message burst to the last inbox record; reply
        throughput from the first of 10,000 reply records to the simulator receiving the last post;
        both are run three times and the median shown, with the CPU of each process over the run.

        """
    }
}
