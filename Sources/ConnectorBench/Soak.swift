import Foundation
import TestSupport

/// `ConnectorBench --soak N`: N round trips through one copy of each service, in chunks, with
/// each service's resident memory after the first chunk (warmed up) and at the end. A leak shows
/// as growth that scales with N; a bounded process ends where it started, give or take its
/// allocator's high-water marks.
enum Soak {
    static let chunk = 5_000

    static func run(roundTrips: Int, environment: [String: String], simulatorArguments: [String], log: @escaping (String) -> Void) async throws {
        try await ConnectorStack.with(label: "bench-soak", environment: environment, simulatorArguments: simulatorArguments, startingServices: true) { stack in
            let driver = try await BenchDriver(stack: stack)
            try await Task.sleep(for: .seconds(2))
            let idle = driver.memory()
            log("soak: warm-up chunk of \(chunk) round trips")
            try await driver.roundTrips(chunk)
            try await Task.sleep(for: .seconds(2))
            let start = driver.memory()
            let started = ContinuousClock.now
            var done = chunk
            while done < roundTrips {
                let count = min(chunk, roundTrips - done)
                try await driver.roundTrips(count)
                done += count
                log("soak: \(done) of \(roundTrips) round trips")
            }
            try await Task.sleep(for: .seconds(2))
            let end = driver.memory()
            let seconds = Double((ContinuousClock.now - started).components.seconds)
            var lines = [
                "| service | RSS idle | RSS after \(chunk) round trips | RSS after \(roundTrips) | growth over the last \(roundTrips - chunk) |",
                "|---|---|---|---|---|",
            ]
            for service in ["Ingest", "Dispatcher", "Replier"] {
                let growth = (end[service]?.rss ?? .nan) - (start[service]?.rss ?? .nan)
                lines.append("| \(service) | \(Statistics.format(idle[service]?.rss ?? .nan)) MB | \(Statistics.format(start[service]?.rss ?? .nan)) MB | \(Statistics.format(end[service]?.rss ?? .nan)) MB | \(Statistics.format(growth)) MB |")
            }
            print("Soak: \(roundTrips) round trips (\(Statistics.format(Double(roundTrips - chunk) / max(seconds, 1), 0)) per second after the warm-up), one copy of each service, limits lifted.\n")
            print(lines.joined(separator: "\n"))
        }
    }
}
