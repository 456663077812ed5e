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

    static func format(_ value: Double, _ digits: Int = 1) -> String {
        value.isNaN ? "n/a" : String(format: "%.\(digits)f", value)
    }
}
