public import VFIOCore
import Foundation

extension SimulatedKernel {
    /// Simulates a reboot, for testing what must be re-verified after one: a new
    /// `proc/sys/kernel/random/boot_id`, every `driver_override` back to `(null)`, every device unbound and
    /// then probed onto its native driver (a device without one stays unbound), every `dev/vfio/<group>`
    /// and VFIO cdev gone, cdev numbering restarted at 0, every fault cleared. Native drivers survive (they
    /// stand for the modules and id tables of the host). Do not call it while an unbind is held by a fault.
    /// Throws ``KernelError`` on a file-system failure.
    public func simulateReboot(newBootID: String = UUID().uuidString.lowercased()) throws(KernelError) {
        try clearFaults()
        let path = paths.proc("sys/kernel/random/boot_id")
        try lockedTree(path) { state in
            var writer = TreeWriter(root: paths.root)
            try writer.file("proc/sys/kernel/random/boot_id", newBootID + "\n")
            let devices = tree.allDevices().compactMap { address in tree.directory(of: address).map { (address, $0) } }
            for (address, directory) in devices {
                _ = try tree.writeOverride(nil, of: address)
                if let driver = tree.queries.driver(of: address) {
                    try tree.detach(address, directory: directory, driver: driver)
                }
                try tree.removeCdev(directory: directory)
            }
            tree.removeAllVFIONodes()
            TreeWriter(root: paths.root).removeTree(SimulatedTree.unbindingDirectory)
            state.nextCdev = 0
            try cdevCounter.save(0)
            for (address, directory) in devices {
                guard let native = state.nativeDrivers[address.description] else { continue }
                try tree.attach(address, directory: directory, driver: native, cdev: nil)
            }
            try stateDirectory.writeState(state)
        }
    }
}
