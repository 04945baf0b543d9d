import VFIOCore

/// Each simulated sysfs write changes the tree as one unit, as far as a crash can tell: the change is
/// recorded (``TreeIntent``, `<root>/.vfiod-simulator/pending/<address>`) before its first file changes
/// and the record goes after its last. A process killed in between leaves the record; the next
/// ``SimulatedKernel`` opening the tree completes the change before anything reads it, as the kernel would
/// have completed the write it had begun. Nobody ever sees a state the kernel does not produce after a
/// crash: a `dev/vfio/<group>` without a vfio-pci member, a device on vfio-pci without its cdev, a driver
/// link without the driver's link back.
extension SimulatedKernel {
    /// Records `intent` as the change under way (see ``PendingChange``). Throws ``KernelError``.
    func beginChange(_ intent: TreeIntent) throws(KernelError) -> PendingChange {
        try PendingChange.begin(intent, in: stateDirectory.pendingDirectory, spares: intentRecords)
    }

    /// Completes every change a dead process left (records nobody holds locked), at open.
    func completeLeftBehindChanges() throws {
        for (intent, change) in PendingChange.leftBehind(in: stateDirectory.pendingDirectory) {
            try state.withLock { state in try complete(intent, state: &state) }
            change.finish()
        }
    }

    /// Runs `intent`'s change again from the start: every step is idempotent. A device now bound to another
    /// driver than the change's (someone changed it since) is left alone.
    private func complete(_ intent: TreeIntent, state: inout SimulatorState) throws {
        let address = intent.address
        guard let directory = tree.directory(of: address) else { return }
        let bound = tree.queries.driver(of: address)
        guard bound == nil || bound == intent.driver else { return }
        switch intent.kind {
        case .attach:
            try tree.attach(address, directory: directory, driver: intent.driver, cdev: intent.cdev)
        case .detach:
            var facts = tree.vfioFacts(address, directory: directory)
            if intent.group != nil { facts.group = intent.group }
            if !intent.vfioDevEntries.isEmpty { facts.vfioDevEntries = .names(intent.vfioDevEntries) }
            try tree.detach(address, directory: directory, driver: intent.driver, facts: facts)
        }
    }

    /// For tests: the next tree change stops after `steps` of its file changes (and of any later change's,
    /// counted on), as if the process had been killed there, and throws ``KernelError`` `EINTR` (call
    /// `simulated-kill`). What it leaves is what a new ``SimulatedKernel`` on the same tree (in place)
    /// completes. Steps are counted across changes until the interruption happens.
    public func interruptTreeChange(afterSteps steps: Int) {
        interruption.arm(afterSteps: steps)
    }

    /// Whether an interruption set with ``interruptTreeChange(afterSteps:)`` has not happened yet.
    public var treeChangeInterruptionPending: Bool { interruption.isArmed }
}
