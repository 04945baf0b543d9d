public import VFIOCore

/// Fault injection. The fault file `<root>/.vfiod-simulator/faults.json` is the one source of truth, read
/// at every unbind and probe, so a test can fault a separate vfiod process by rewriting the file (write a
/// temporary file and rename it into place). These methods edit the same file for in-process tests.
extension SimulatedKernel {
    /// `<root>/.vfiod-simulator/faults.json`.
    public var faultFilePath: String { stateDirectory.faultFile }

    /// `<root>/.vfiod-simulator/blocked`: holds an empty file named after each address whose unbind is held
    /// by an `unbindBlocks` fault right now, so another process can see that the unbind reached the kernel.
    public var blockedUnbindDirectory: String { stateDirectory.blockedDirectory }

    /// The faults in effect (empty when the fault file is missing or unreadable).
    public func faults() -> SimulatorFaults {
        stateDirectory.readFaults() ?? SimulatorFaults()
    }

    /// Sets `fault`. Throws ``KernelError`` when the fault file cannot be written.
    public func injectFault(_ fault: SimulatorFault) throws(KernelError) {
        try editFaults { $0.set(fault, true) }
    }

    /// Clears `fault`; clearing an `unbindBlocks` fault releases the unbinds it holds, clearing a
    /// `deadAfterReset` fault makes the device answer again.
    public func removeFault(_ fault: SimulatorFault) throws(KernelError) {
        try editFaults { $0.set(fault, false) }
    }

    /// Clears every fault (releasing every held unbind).
    public func clearFaults() throws(KernelError) {
        try editFaults { $0 = SimulatorFaults() }
    }

    /// Clears every `unbindBlocks` fault: the unbinds they hold go on and unbind, as when the opener
    /// lets go of the device. Later unbinds of those devices no longer block.
    public func releaseBlockedUnbinds() throws(KernelError) {
        try editFaults { $0.unbindBlocks = [] }
    }

    /// Blocks the calling thread until some thread is held in `unbind` of `address` by an `unbindBlocks`
    /// fault (returns at once if one is). For tests: it never returns if no such unbind comes.
    public func waitForBlockedUnbind(of address: PCIAddress) {
        blocked.waitUntilHeld(address)
    }

    /// How many threads are held in `unbind` of `address` right now.
    public func blockedUnbindCount(of address: PCIAddress) -> Int {
        blocked.heldCount(address)
    }

    /// Read-modify-write of the fault file under the fault lock, then wakes every held unbind to re-check.
    private func editFaults(_ change: (inout SimulatorFaults) -> Void) throws(KernelError) {
        try blocked.editing { () throws(KernelError) in
            var faults = stateDirectory.readFaults() ?? SimulatorFaults()
            change(&faults)
            try stateDirectory.writeFaults(faults)
            // A cleared deadAfterReset fault revives its device; a later injection starts alive again.
            for name in (try? SysfsFiles.listDirectory(stateDirectory.deadDirectory)) ?? [] {
                guard let address = PCIAddress(name), !faults.deadAfterReset.contains(address) else { continue }
                stateDirectory.markDead(address, false)
            }
        }
    }
}
