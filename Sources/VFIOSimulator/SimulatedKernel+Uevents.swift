public import VFIOCore

/// The uevents the kernel sends for the changes the simulator makes: `bind` after a driver attached,
/// `unbind` after one detached, as Linux sends them on NETLINK_KOBJECT_UEVENT. `driver_override` writes
/// send none, as on Linux. Changes made to the tree by hand (``SysfsTreeBuilder``) send none either:
/// they stand for what uevents missed.
extension SimulatedKernel {
    /// Reports this kernel's uevents to `handler` until the returned closure is called; one watcher at a
    /// time (a second replaces the first). The handler runs on the thread that made the change, with the
    /// lock of the device's group held: it must hand the event on, not call back into the kernel.
    public func watchUevents(_ handler: @escaping @Sendable (UeventMessage?) -> Void) -> (@Sendable () -> Void)? {
        let token = ueventWatch.withLock { watch in
            watch.serial += 1
            watch.handler = handler
            return watch.serial
        }
        return { [self] in
            ueventWatch.withLock { watch in
                if watch.serial == token { watch.handler = nil }
            }
        }
    }

    /// Sends `action` for `address` to the watcher, if any. `directory`: the device's directory when the
    /// change has just resolved it (else it is resolved here).
    func sendUevent(_ action: String, _ address: PCIAddress, driver: String?, directory: String? = nil) {
        guard let handler = ueventWatch.withLock({ $0.handler }) else { return }
        var devicePath = directory ?? tree.directory(of: address) ?? paths.pciDevice(address)
        // DEVPATH is relative to /sys, as the kernel sends it.
        let sys = paths.sys("")
        if devicePath.hasPrefix(sys) {
            devicePath = "/" + devicePath[devicePath.utf8.index(devicePath.utf8.startIndex, offsetBy: sys.utf8.count)...]
        }
        let message = UeventMessage(action: action, devicePath: devicePath, address: address, driver: driver)
        // The watcher is vfiod's code, not the kernel's: its CPU is not the simulator's.
        cpu.excluding { handler(message) }
    }
}

/// The one watcher of a simulated kernel's uevents.
struct UeventWatch {
    /// Counts the watchers started, so that stopping an old one leaves a newer one alone.
    var serial: UInt64 = 0
    /// Where events go; `nil`: nobody listens.
    var handler: (@Sendable (UeventMessage?) -> Void)?
}
