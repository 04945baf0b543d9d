import Foundation

/// `vfiod-bench idle PID SECONDS`: the CPU a process spends while left alone, from the kernel's own
/// accounting, per thread (`/proc/PID/task/*/schedstat`: nanoseconds on a CPU) and for the whole process
/// (`/proc/PID/stat` utime + stime in clock ticks, exited threads included). Prints one summary line
/// (`idle: N ms of CPU per hour (P % of one core); T ms in S s; …`) and the threads that ran, busiest first.
enum IdleCost {
    /// One thread's name and nanoseconds on a CPU so far.
    private struct Sample {
        var name: String
        var nanoseconds: UInt64
    }

    static func run(pid: Int32, seconds: Double) {
        let ticksBefore = processTicks(pid)
        let before = threads(pid)
        let started = Date()
        Thread.sleep(forTimeInterval: seconds)
        let elapsed = Date().timeIntervalSince(started)
        let after = threads(pid)
        let ticksAfter = processTicks(pid)
        var spent: [(name: String, nanoseconds: UInt64)] = []
        for (tid, sample) in after {
            let earlier = before[tid]?.nanoseconds ?? 0
            if sample.nanoseconds > earlier { spent.append((sample.name, sample.nanoseconds - earlier)) }
        }
        let total = spent.reduce(0) { $0 + $1.nanoseconds }
        let perHour = Double(total) / 1e6 * 3600 / elapsed
        let ticks = Double(ticksAfter - ticksBefore) * 10 * 3600 / elapsed  // 100 ticks a second on Linux
        print(String(format: "idle: %.0f ms of CPU per hour (%.4f %% of one core); %.1f ms in %.0f s; /proc/PID/stat: %.0f ms per hour",
                     perHour, perHour / 3_600_000 * 100, Double(total) / 1e6, elapsed, ticks))
        var byName: [String: UInt64] = [:]
        for thread in spent { byName[thread.name, default: 0] += thread.nanoseconds }
        for (name, nanoseconds) in byName.sorted(by: { $0.value > $1.value }) {
            print(String(format: "  %@: %.1f ms per hour", name, Double(nanoseconds) / 1e6 * 3600 / elapsed))
        }
    }

    /// Every thread now: id → name and time on a CPU.
    private static func threads(_ pid: Int32) -> [Int: Sample] {
        let directory = "/proc/\(pid)/task"
        var samples: [Int: Sample] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            guard let tid = Int(entry),
                  let schedstat = try? String(contentsOfFile: "\(directory)/\(entry)/schedstat", encoding: .utf8),
                  let first = schedstat.split(separator: " ").first, let nanoseconds = UInt64(first) else { continue }
            let name = (try? String(contentsOfFile: "\(directory)/\(entry)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            samples[tid] = Sample(name: name, nanoseconds: nanoseconds)
        }
        return samples
    }

    /// utime + stime of the whole process, in clock ticks.
    private static func processTicks(_ pid: Int32) -> UInt64 {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return 0 }
        return user + system
    }
}
