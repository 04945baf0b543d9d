/// How a reset reaches a device.
public enum ResetMethod: String, Sendable, Hashable, CaseIterable {
    /// `VFIO_DEVICE_RESET`: the function's own reset (FLR, PM, or a bus reset when it is alone below its
    /// bridge); touches only this function.
    case function
    /// `VFIO_DEVICE_PCI_HOT_RESET`: a secondary bus (or slot) reset below the parent bridge; touches every
    /// function there, and needs ownership of all of them.
    case hot
}

/// The way vfiod reached the device's VFIO file.
public enum VFIOAccessPath: String, Sendable, Hashable {
    /// `/dev/vfio/<group>` through a container.
    case group
    /// `/dev/vfio/devices/vfioX` bound to `/dev/iommu` (kernel ≥ 6.6).
    case cdev
}

/// What a reset did, as the kernel reported it.
public struct ResetOutcome: Sendable, Hashable {
    /// The method used.
    public var method: ResetMethod
    /// The path used.
    public var path: VFIOAccessPath
    /// For a hot reset: the functions `VFIO_DEVICE_GET_PCI_HOT_RESET_INFO` listed; empty for a function reset.
    public var kernelScope: [PCIAddress]

    /// Creates an outcome.
    public init(method: ResetMethod, path: VFIOAccessPath, kernelScope: [PCIAddress] = []) {
        self.method = method
        self.path = path
        self.kernelScope = kernelScope
    }
}

/// A process that holds VFIO files.
public struct VFIOOpener: Sendable, Hashable {
    /// Its process id.
    public var pid: Int32
    /// `proc/<pid>/cmdline`, arguments joined by spaces (the `comm` name when that is empty).
    public var commandLine: String
    /// The VFIO files it holds, as paths under the host root (`/dev/vfio/7`, `/dev/vfio/devices/vfio0`).
    public var paths: [String]

    /// Creates an opener.
    public init(pid: Int32, commandLine: String, paths: [String]) {
        self.pid = pid
        self.commandLine = commandLine
        self.paths = paths
    }
}

/// One record of the kernel log (`/dev/kmsg`: `prio,seq,usec,flags;text`).
public struct KernelLogRecord: Sendable, Hashable {
    /// The record's sequence number.
    public var sequence: UInt64
    /// Microseconds since boot.
    public var microseconds: UInt64
    /// The message, e.g. `vfio-pci 0000:01:00.0: Relaying device request to user (#0)`.
    public var text: String

    /// Creates a record.
    public init(sequence: UInt64, microseconds: UInt64, text: String) {
        self.sequence = sequence
        self.microseconds = microseconds
        self.text = text
    }
}
