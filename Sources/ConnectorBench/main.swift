import Foundation
import Shared
import TestSupport

// The connector's benchmark (`make bench`, release build): starts redis-server, the Discord
// simulator and the services as real processes on this machine, drives messages through them,
// and prints one table, with raw `redis-benchmark` XADD figures from the same run as the
// baseline. Usage: ConnectorBench [--output BENCHMARKS.md] [--quick] | --soak N

let arguments = CommandLine.arguments
if arguments.dropFirst().first == "--ingest-floor" {
    // The bench's own child process: the floor for Ingest (IngestFloor).
    await IngestFloor.run(environment: ProcessInfo.processInfo.environment)
}
let usage = """
Usage: ConnectorBench [--output PATH] [--quick]
       ConnectorBench --soak N

Starts redis-server, the Discord simulator and the connector's services (release builds beside
this binary) on loopback, drives messages through them and prints one Markdown table of
latencies, throughputs, memory and CPU per message, with redis-benchmark XADD figures from the
same run as the baseline. Progress goes to standard error.

  --output PATH   also write the table to PATH (make bench writes BENCHMARKS.md)
  --quick         smaller runs, for trying the benchmark out (figures are noisier)
  --soak N        instead: N round trips (a message in, its answer out) through one copy of
                  each service, in chunks of 5,000, and the services' RSS after the first chunk
                  and at the end (a leak shows as growth)
  --help, -h      print this and exit
"""
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
func usageError(_ problem: String) -> Never {
    FileHandle.standardError.write(Data("ConnectorBench: \(problem)\n\(usage)\n".utf8))
    exit(64)
}
if let unknown = arguments.dropFirst().first(where: { $0.hasPrefix("-") && !["--output", "--quick", "--soak"].contains($0) }) {
    usageError("unknown option '\(unknown)'")
}
let soakRoundTrips: Int? = {
    guard let index = arguments.firstIndex(of: "--soak") else { return nil }
    guard arguments.indices.contains(index + 1), let count = Int(arguments[index + 1]), count >= 5_000 else {
        usageError("--soak needs a number of round trips, at least 5000")
    }
    return count
}()
let quick = arguments.contains("--quick")
let outputPath = arguments.firstIndex(of: "--output").flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }
let sizes = BenchSizes(quick: quick)
var report = BenchReport()

func log(_ text: String) {
    FileHandle.standardError.write(Data("bench: \(text)\n".utf8))
}

let quiet = ["LOG_LEVEL": "warning", "UNANSWERED_NOTICE_AFTER": "0", "CLAIM_IDLE_MS": "30000"]
// "Limits lifted": the simulator allows 100,000 creates per second per channel (its headers
// teach the connector so), and the connector's global limit is raised to match.
let lifted = quiet.merging(["DISCORD_GLOBAL_RATE_LIMIT": "100000"]) { _, new in new }
let liftedSimulator = ["--rate-limit", "100000/1"]

if let soakRoundTrips {
    do {
        try await Soak.run(roundTrips: soakRoundTrips, environment: lifted, simulatorArguments: liftedSimulator, log: log)
        exit(0)
    } catch {
        log("failed: \(error)")
        exit(1)
    }
}

do {
    log("baseline: redis-benchmark XADD (1 client, 50 clients, 50 clients pipelining 16)")
    report.baseline = try await Baseline.measure(requests: sizes.baselineRequests)

    log("stack 0: the floor for Ingest (a gateway reader that only XADDs each payload), \(sizes.inboundMessages) messages")
    try await ConnectorStack.with(label: "bench-floor", environment: lifted, simulatorArguments: liftedSimulator) { stack in
        let floor = try ChildProcess(
            name: "floor", executable: CommandLine.arguments[0], arguments: ["--ingest-floor"],
            environment: ["FLOOR_GATEWAY_URL": "ws://127.0.0.1:\(stack.simulator.port)", "FLOOR_TOKEN": stack.simulator.token, "FLOOR_BUS_URL": stack.redis.url],
            logPath: stack.directory + "/floor.log"
        )
        do {
            try await stack.waitForGateway(sessions: 1)
            let driver = try await BenchDriver(stack: stack, inbox: IngestFloor.stream)
            var rates: [Double] = [], cpus: [Double] = []
            for _ in 0..<sizes.repeats {
                let before = Statistics.cpuSeconds(pid: floor.pid)
                rates.append(try await driver.inboundThroughput(messages: sizes.inboundMessages))
                cpus.append((Statistics.cpuSeconds(pid: floor.pid) - before) * 1_000_000 / Double(sizes.inboundMessages))
            }
            report.baseline.floorRate = Statistics.median(rates)
            report.baseline.floorCPU = Statistics.median(cpus)
        } catch {
            await floor.stop(grace: .seconds(1))
            throw error
        }
        await floor.stop(grace: .seconds(1))
    }

    log("stack 1: one Replier, Discord limits lifted")
    try await ConnectorStack.with(label: "bench-1", environment: lifted, simulatorArguments: liftedSimulator, startingServices: true) { stack in
        let driver = try await BenchDriver(stack: stack)
        try await Task.sleep(for: .seconds(2))
        report.idleMemory = driver.memory()
        report.idleMemorySplit = driver.memorySplit()
        log("inbound latency (\(sizes.latencySamples) messages, one at a time)")
        report.inboundLatency = try await driver.inboundLatency(samples: sizes.latencySamples)
        log("reply latency (\(sizes.latencySamples) replies, one at a time)")
        report.replyLatency = try await driver.replyLatency(samples: sizes.latencySamples)
        log("interaction acknowledgement latency (\(sizes.latencySamples) /ask, one at a time)")
        report.interactionAckLatency = try await driver.interactionAckLatency(samples: sizes.latencySamples)
        log("click -> inbox latency (\(sizes.latencySamples) clicks, one at a time)")
        report.clickLatency = try await driver.clickLatency(samples: sizes.latencySamples)
        for run in 1...sizes.repeats {
            log("inbound throughput (\(sizes.inboundMessages) messages), run \(run) of \(sizes.repeats)")
            let cpuBeforeInbound = driver.cpu()
            report.inboundRates.append(try await driver.inboundThroughput(messages: sizes.inboundMessages))
            report.inboundCPUs.append(BenchReport.cpuPerThousand(before: cpuBeforeInbound, after: driver.cpu(), count: sizes.inboundMessages))
        }
        for run in 1...sizes.repeats {
            log("reply throughput, 1 Replier (\(sizes.replies) replies), run \(run) of \(sizes.repeats)")
            let cpuBeforeReplies = driver.cpu()
            report.replyRates1.append(try await driver.replyThroughput(replies: sizes.replies, channels: 100))
            report.replyCPUs.append(BenchReport.cpuPerThousand(before: cpuBeforeReplies, after: driver.cpu(), count: sizes.replies))
        }
        report.loadMemory = driver.memory()
        log("file replies, 1 MiB each (\(sizes.fileReplies) replies)")
        report.files = try await driver.fileReplyThroughput(replies: sizes.fileReplies, bytes: 1_048_576, channels: 20)
        log("progress edits (\(sizes.progressRequests) requests x 5 status records, then the answers)")
        report.progress = try await driver.progressEdits(requests: sizes.progressRequests, perRequest: 5, channels: 50)
    }

    log("stack 4: Redis memory per round trip (\(sizes.memoryRoundTrips) round trips)")
    try await ConnectorStack.with(label: "bench-memory", environment: lifted, simulatorArguments: liftedSimulator, startingServices: true) { stack in
        let driver = try await BenchDriver(stack: stack)
        report.memory = try await driver.memoryPerRoundTrip(count: sizes.memoryRoundTrips)
    }

    log("stack 5: a three-primary Redis Cluster, one copy of each service, Discord limits lifted")
    let clusterDirectory = try makeScratchDirectory("bench-cluster")
    let cluster = try await RedisClusterGroup(directory: clusterDirectory)
    do {
        try await ConnectorStack.with(label: "bench-cluster", environment: lifted.merging(["MUMEGA_BUS_URL": cluster.url]) { _, new in new }, simulatorArguments: liftedSimulator, startingServices: true) { stack in
            let driver = try await BenchDriver(stack: stack, busURL: cluster.url)
            try await Task.sleep(for: .seconds(2))
            log("inbound throughput on the cluster (\(sizes.inboundMessages) messages)")
            report.clusterInboundRate = try await driver.inboundThroughput(messages: sizes.inboundMessages)
            log("reply throughput on the cluster (\(sizes.replies) replies)")
            report.clusterReplyRate = try await driver.replyThroughput(replies: sizes.replies, channels: 100)
        }
    } catch {
        await cluster.stop()
        throw error
    }
    await cluster.stop()
    try? FileManager.default.removeItem(atPath: clusterDirectory)

    log("stack 2: three Repliers, Discord limits lifted")
    try await ConnectorStack.with(label: "bench-3", environment: lifted, simulatorArguments: liftedSimulator) { stack in
        try stack.start("Ingest")
        try stack.start("Dispatcher")
        for index in 0..<3 { try stack.start("Replier", as: "Replier-\(index)", environment: ["CONSUMER_NAME": "replier-\(index)"]) }
        try await stack.waitForGateway(sessions: 1)
        try await Task.sleep(for: .seconds(3))  // the partitions spread over the three
        let driver = try await BenchDriver(stack: stack)
        log("reply throughput, 3 Repliers (\(sizes.replies) replies)")
        report.replyRate3 = try await driver.replyThroughput(replies: sizes.replies, channels: 100)
        report.loadMemory3 = driver.memory()
    }

    log("stack 3: Discord-like limits (5 per 5 s per channel, 50/s global), three Repliers, 100 channels")
    try await ConnectorStack.with(label: "bench-limits", environment: quiet, simulatorArguments: ["--global-limit", "50"]) { stack in
        try stack.start("Ingest")
        try stack.start("Dispatcher")
        for index in 0..<3 { try stack.start("Replier", as: "Replier-\(index)", environment: ["CONSUMER_NAME": "replier-\(index)"]) }
        try await stack.waitForGateway(sessions: 1)
        try await Task.sleep(for: .seconds(3))
        let driver = try await BenchDriver(stack: stack)
        log("limited posting (\(sizes.limitedReplies) replies)")
        report.limited = try await driver.limitedRun(replies: sizes.limitedReplies, channels: 100, allowedPerSecond: 50)
    }
} catch {
    log("failed: \(error)")
    exit(1)
}

let table = report.markdown(machine: MachineInfo.describe(), quick: quick)
print(table)
if let outputPath {
    try table.write(toFile: outputPath, atomically: true, encoding: .utf8)
    log("wrote \(outputPath)")
}
