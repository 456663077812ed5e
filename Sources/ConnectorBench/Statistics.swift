import Foundation

/// Small measurement helpers for the benchmark.
enum Statistics {
    /// The p-th percentile (0...100) of microsecond samples, in milliseconds.
    static func percentile(_ samples: [Int], _ p: Double) -> Double {
        guard !samples.isEmpty else { return .nan }
        let sorted = samples.sorted()
        let rank = Int((p / 100 * Double(sorted.count - 1)).rounded())
        return Double(sorted[rank]) / 1000
    }

    /// The median of a few measurements (NaN for none).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.filter { !$0.isNaN }.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// The per-key median of several CPU readings.
    static func median(_ readings: [[String: Double]]) -> [String: Double] {
        var result: [String: Double] = [:]
        for key in Set(readings.flatMap(\.keys)) { result[key] = median(readings.compactMap { $0[key] }) }
        return result
    }

    static func nowMicros() -> Int { Int(Date().timeIntervalSince1970 * 1_000_000) }

    /// Resident and peak resident memory of a process, in MB, from /proc.
    static func memory(pid: pid_t) -> (rss: Double, peak: Double) {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (.nan, .nan) }
        func field(_ name: String) -> Double {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }),
                  let kb = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap({ Double($0) }) else { return .nan }
            return kb / 1024
        }
        return (field("VmRSS"), field("VmHWM"))
    }

    /// CPU time (user + system) a process has used so far, in seconds, from /proc/<pid>/stat.
    static func cpuSeconds(pid: pid_t) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return .nan }
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident memory split into anonymous (the process's own heap and stacks) and file-backed
    /// (mapped code and data, shared with other processes and reclaimable), in MB.
    static func memorySplit(pid: pid_t) -> (anon: Double, file: Double) {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (.nan, .nan) }
        func field(_ name: String) -> Double {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }),
                  let kb = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap({ Double($0) }) else { return .nan }
            return kb / 1024
        }
        return (field("RssAnon"), field("RssFile"))
    }

    static func format(_ value: Double, _ digits: Int = 1) -> String {
        value.isNaN ? "n/a" : String(format: "%.\(digits)f", value)
    }
}
