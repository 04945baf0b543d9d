#if canImport(Glibc)
import Glibc
#endif
import Foundation
import VFIOCore

/// What the simulator must remember that sysfs does not show, kept in `<root>/.vfiod-simulator/state.json`
/// so another process opening the same tree in place continues where the last one stopped.
struct SimulatorState: Codable, Sendable {
    /// The file format version.
    var version = 1
    /// Address → the driver `drivers_probe` binds when no override is set: the driver the device had when
    /// the tree was first opened, or the last non-VFIO driver it was bound to. Absent: none.
    var nativeDrivers: [String: String]
    /// The number the next `vfio-dev/vfioN` gets (monotonic within a boot).
    var nextCdev: Int
}

/// Tunables of the simulated kernel, kept in `<root>/.vfiod-simulator/settings.json` (every key optional)
/// and re-read where they are used, so another process opening the same tree sees a change.
struct SimulatorSettings: Codable, Sendable, Hashable {
    /// Seconds between two relays of a device request to an opener during a cooperative unbind (the
    /// kernel's 10 s); `nil` for the default.
    var requestIntervalSeconds: Double?
}

/// The hidden directory beside `sys/`, `dev/`, `proc/` holding the simulator's own files. Scans never see
/// it: they only read below `sys/`, `dev/` and `proc/`.
struct SimulatorStateDirectory: Sendable {
    /// `<root>/.vfiod-simulator`.
    let path: String

    /// The last parsed fault file, reused while the file is unchanged.
    let faultCache = FaultFileCache()

    init(root: String) {
        path = root + "/.vfiod-simulator"
    }

    /// `state.json`.
    var stateFile: String { path + "/state.json" }
    /// `faults.json`.
    var faultFile: String { path + "/faults.json" }
    /// `blocked/`: one empty file per address whose unbind is blocked by a fault right now.
    var blockedDirectory: String { path + "/blocked" }
    /// `settings.json`: ``SimulatorSettings``.
    var settingsFile: String { path + "/settings.json" }
    /// `dead/`: one empty file per address a `deadAfterReset` fault has made stop answering.
    var deadDirectory: String { path + "/dead" }
    /// `requests/`: the FIFOs simulated openers read device requests from, `<address>.<pid>`.
    var requestDirectory: String { path + "/requests" }

    /// Makes `requests/` writable by everyone, sticky (like `/tmp`): a holder that fetched its descriptors
    /// from the holder socket runs as its own uid and makes its FIFO there. Failures are ignored (an
    /// opener that cannot make its FIFO says so).
    func openRequestDirectory() {
        _ = mkdir(path, 0o755)
        _ = mkdir(requestDirectory, 0o755)
        // The mode is set after mkdir, which the umask would have narrowed.
        _ = chmod(requestDirectory, 0o1777)
    }
    /// `pending/`: one ``TreeIntent`` record per tree change under way (or cut short), `<address>`.
    var pendingDirectory: String { path + "/pending" }
    /// `spare/`: record files kept open for reuse by ``PendingChange`` (``IntentRecordPool``).
    var spareDirectory: String { path + "/spare" }

    /// The settings in the file; defaults when it is missing or does not parse.
    func readSettings() -> SimulatorSettings {
        guard let bytes = try? SysfsFiles.readBytes(settingsFile, limit: 1 << 20),
              let settings = try? JSONDecoder().decode(SimulatorSettings.self, from: Data(bytes)) else { return SimulatorSettings() }
        return settings
    }

    /// Replaces the settings file atomically.
    func writeSettings(_ settings: SimulatorSettings) throws(KernelError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(settings)) ?? Data("{}".utf8)
        try writeAtomically(settingsFile, Array(data) + [0x0a])
    }

    /// Creates or removes `dead/<address>`; failures are ignored.
    func markDead(_ address: PCIAddress, _ dead: Bool) {
        setMarker(in: deadDirectory, address, dead)
    }

    /// Creates or removes the empty file `<directory>/<address>`; failures are ignored (markers inform).
    private func setMarker(in directory: String, _ address: PCIAddress, _ present: Bool) {
        let marker = directory + "/" + address.description
        if present {
            _ = mkdir(path, 0o755)
            _ = mkdir(directory, 0o755)
            let fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            if fd >= 0 { close(fd) }
        } else {
            unlink(marker)
        }
    }

    /// Whether `dead/<address>` exists.
    func isMarkedDead(_ address: PCIAddress) -> Bool {
        SysfsFiles.exists(deadDirectory + "/" + address.description)
    }

    /// The saved state; `nil` when there is none or it cannot be parsed.
    func readState() -> SimulatorState? {
        guard let bytes = try? SysfsFiles.readBytes(stateFile, limit: 64 << 20) else { return nil }
        return try? JSONDecoder().decode(SimulatorState.self, from: Data(bytes))
    }

    /// Saves the state atomically (temporary file, then `rename(2)`).
    func writeState(_ state: SimulatorState) throws(KernelError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(state)) ?? Data("{}".utf8)
        try writeAtomically(stateFile, Array(data) + [0x0a])
    }

    /// The faults in the file: empty when there is no file, `nil` when it exists but does not parse
    /// (perhaps half-written by a tool that does not rename into place).
    ///
    /// One `stat` when the file is missing or unchanged since it was last parsed (``FaultFileCache``).
    func readFaults() -> SimulatorFaults? {
        faultCache.read(faultFile)
    }

    /// Replaces the fault file atomically.
    func writeFaults(_ faults: SimulatorFaults) throws(KernelError) {
        try writeAtomically(faultFile, faults.encoded())
    }

    /// Creates or removes `blocked/<address>`; failures are ignored (the marker is informational).
    func markBlocked(_ address: PCIAddress, _ blocked: Bool) {
        setMarker(in: blockedDirectory, address, blocked)
    }

    /// Removes every `blocked/` marker: a new process has no blocked thread, whatever a killed one left.
    func clearBlockedMarkers() {
        for name in (try? SysfsFiles.listDirectory(blockedDirectory)) ?? [] { unlink(blockedDirectory + "/" + name) }
    }

    /// Writes `bytes` to `<file>.<pid>.tmp` and renames it over `file`, so readers in any process see the
    /// old or the new content, never half of it. Callers serialise writes of one file within a process.
    func writeAtomically(_ file: String, _ bytes: [UInt8]) throws(KernelError) {
        let temporary = file + ".\(getpid()).tmp"
        // The directory almost always exists: make it only when the open says it is missing.
        var fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 && errno == ENOENT {
            guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw KernelError(call: "mkdir", path: path, errno: errno) }
            fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { throw KernelError(call: "open", path: temporary, errno: errno) }
        var written = 0
        while written < bytes.count {
            // write(2) the remaining tail of `bytes`.
            let count = bytes.withUnsafeBytes { raw in write(fd, raw.baseAddress! + written, raw.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                let failure = errno
                close(fd)
                unlink(temporary)
                throw KernelError(call: "write", path: temporary, errno: failure)
            }
            written += count
        }
        close(fd)
        guard rename(temporary, file) == 0 else {
            let failure = errno
            unlink(temporary)
            throw KernelError(call: "rename", path: file, errno: failure)
        }
    }
}
