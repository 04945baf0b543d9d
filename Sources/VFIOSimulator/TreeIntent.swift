#if canImport(Glibc)
import Glibc
#endif
import VFIOCore

/// One simulated sysfs write's change of the tree, named before its first file changes: the simulator's
/// write-ahead record, so that a process killed in the middle of a change leaves no state the kernel
/// never shows (a `dev/vfio/<group>` without a vfio-pci member, a device on vfio-pci without its cdev).
///
/// The kernel finishes a bind or unbind it has begun whatever happens to the writing process, so a change
/// left half-done is completed (rolled forward) by the next ``SimulatedKernel`` that opens the tree.
/// Each step of the change is idempotent, which makes completing it safe from any point.
struct TreeIntent: Sendable, Hashable {
    /// What the write does.
    enum Kind: String, Sendable {
        /// Binds `driver` (`bind`, `drivers_probe`).
        case attach
        /// Unbinds `driver` (`unbind`).
        case detach
    }

    var kind: Kind
    var address: PCIAddress
    var driver: String
    /// Attach: the cdev number the device gets (vfio-pci on a host with cdevs).
    var cdev: Int?
    /// Detach from vfio-pci: the device's group, read before the change.
    var group: Int?
    /// Detach from vfio-pci: the device's `vfio-dev/` entries, read before the change.
    var vfioDevEntries: [String] = []

    /// One line: `detach 0000:01:00.0 vfio-pci group=7 vfio-dev=vfio0`, `attach 0000:01:00.0 vfio-pci cdev=3`.
    var encoded: String {
        var text = kind.rawValue
        text.reserveCapacity(64)
        text += " "
        text += address.description
        text += " "
        text += driver
        if let cdev { text += " cdev=" + String(cdev) }
        if let group { text += " group=" + String(group) }
        if !vfioDevEntries.isEmpty { text += " vfio-dev=" + vfioDevEntries.joined(separator: ",") }
        return text + "\n"
    }

    /// Parses ``encoded``; `nil` for anything else (a record cut short by a crash: its change never began).
    init?(encoded text: String) {
        guard text.hasSuffix("\n") else { return nil }
        let words = text.dropLast().split(separator: " ").map(String.init)
        guard words.count >= 3, let kind = Kind(rawValue: words[0]), let address = PCIAddress(words[1]),
              SysfsFiles.isPlainDriverName(words[2]) else { return nil }
        self.init(kind: kind, address: address, driver: words[2])
        for word in words.dropFirst(3) {
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return nil }
            switch parts[0] {
            case "cdev": guard let number = Int(parts[1]) else { return nil }; cdev = number
            case "group": guard let number = Int(parts[1]) else { return nil }; group = number
            case "vfio-dev":
                vfioDevEntries = parts[1].split(separator: ",").map(String.init)
                guard vfioDevEntries.allSatisfy(SysfsFiles.isPlainDriverName) else { return nil }
            default: return nil
            }
        }
    }

    init(kind: Kind, address: PCIAddress, driver: String, cdev: Int? = nil, group: Int? = nil, vfioDevEntries: [String] = []) {
        self.kind = kind
        self.address = address
        self.driver = driver
        self.cdev = cdev
        self.group = group
        self.vfioDevEntries = vfioDevEntries
    }
}

/// A ``TreeIntent`` recorded in `<root>/.vfiod-simulator/pending/<address>` while its change runs. The
/// record is locked (`flock`) by the process making the change, so another process opening the tree can
/// tell a change under way (locked) from one whose process died (the kernel drops the lock with its last
/// fd), and completes only the latter.
final class PendingChange {
    private var fd: Int32
    private let path: String
    /// The spare the record was written into, given back to its pool when the change finishes.
    private let spare: (pool: IntentRecordPool, file: IntentRecordFile)?

    private init(fd: Int32, path: String, spare: (pool: IntentRecordPool, file: IntentRecordFile)? = nil) {
        self.fd = fd
        self.path = path
        self.spare = spare
    }

    /// Records `intent`: writes it into a spare record file of `spares` (open and locked already) and
    /// links that as `pending/<address>` (`link(2)`: the same locked inode under a second name), so the
    /// record is whole and locked before it can be seen; ``finish()`` unlinks the name again. A record
    /// shorter than what the spare held is padded with spaces before its newline (the parse skips them),
    /// so one `pwrite(2)` covers the whole file. A record already there (one this process abandoned) is
    /// replaced in one step, as a `rename(2)` of a second link over it. Throws ``KernelError``.
    static func begin(_ intent: TreeIntent, in directory: String, spares: IntentRecordPool) throws(KernelError) -> PendingChange {
        let path = directory + "/" + intent.address.description
        var file = try spares.take()
        var bytes = Array(intent.encoded.utf8)
        if bytes.count < file.size {
            bytes.insert(contentsOf: repeatElement(UInt8(ascii: " "), count: file.size - bytes.count), at: bytes.count - 1)
        }
        do {
            try TreeWriter.write(bytes, to: file.fd, at: 0, path: file.path)
        } catch {
            close(file.fd)
            unlink(file.path)
            throw error
        }
        file.size = bytes.count
        var failure = link(file.path, path) == 0 ? 0 : errno
        var call = "link"
        if failure == ENOENT {
            failure = IntentRecordPool.makeDirectory(directory)
            if failure == 0 { failure = link(file.path, path) == 0 ? 0 : errno } else { call = "mkdir" }
        }
        if failure == EEXIST {
            let temporary = directory + "/.\(intent.address).\(getpid()).tmp"
            unlink(temporary)
            failure = link(file.path, temporary) == 0 ? 0 : errno
            if failure == 0 && rename(temporary, path) != 0 {
                failure = errno
                unlink(temporary)
            }
        }
        guard failure == 0 else {
            spares.put(file)
            throw KernelError(call: call, path: call == "mkdir" ? directory : path, errno: failure)
        }
        return PendingChange(fd: file.fd, path: path, spare: (spares, file))
    }

    /// The change is complete: the record goes (its spare, still at its own name, back to the pool).
    func finish() {
        guard fd >= 0 else { return }
        unlink(path)
        if let spare {
            spare.pool.put(spare.file)
            fd = -1
            return
        }
        abandon()
    }

    /// Lets go of the record without removing it, as a process that dies does: the next ``SimulatedKernel``
    /// opening the tree completes the change. A spare's file is not reused (the record is its inode).
    func abandon() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { abandon() }

    /// The changes in `directory` whose process is gone (their record is not locked), oldest name first,
    /// each with the record's lock now held by the caller: call ``finish()`` once it is completed. Records
    /// that do not parse (cut short before their change began) and stray temporary files are removed.
    static func leftBehind(in directory: String) -> [(TreeIntent, PendingChange)] {
        var found: [(TreeIntent, PendingChange)] = []
        for name in ((try? SysfsFiles.listDirectory(directory)) ?? []).sorted() {
            let path = directory + "/" + name
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            // flock(2) without waiting: EWOULDBLOCK means a live process is making this change.
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { close(fd); continue }
            let change = PendingChange(fd: fd, path: path)
            let text = (try? SysfsFiles.readBytes(path, limit: 4096)).map { String(decoding: $0, as: UTF8.self) }
            if !name.hasPrefix("."), let intent = text.flatMap(TreeIntent.init(encoded:)), intent.address.description == name {
                found.append((intent, change))
            } else {
                change.finish()
            }
        }
        return found
    }
}
